/* A compare's page (templates/services/runs/run_detail.html): each target's first answer
   (GET /api/calls/{id}) with its status, headers and body, and for every target but the first,
   its differences from the first target's answer: its status marked when it is another, and a
   line diff of its headers (`name: value`, sorted by name) and of its body. */
import { byId, format, refusalOf, sendJson } from "./util.js";

// Above this many line pairs, bodies are compared line by line in place (no alignment).
var MAX_DIFF_CELLS = 4000000;

// The body as the page shows it: JSON pretty-printed (so that a diff is by value, one value a
// line), else the text; null when the bytes are not text.
function bodyText(call) {
  if (call.response_body === null || call.response_body === undefined) return null;
  try {
    return JSON.stringify(JSON.parse(call.response_body), null, 2);
  } catch (e) {
    return call.response_body;
  }
}

// The headers as lines `name: value`, sorted by name (any case), for a diff by header.
function headerText(call) {
  var headers = call.response_headers || {};
  return Object.keys(headers).sort(function (a, b) {
    var x = a.toLowerCase(), y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }).map(function (name) { return name + ": " + headers[name]; }).join("\n");
}

// The lines of a and b as a list of [" " | "-" | "+", line]: a longest common subsequence of
// the lines that differ once the common head and tail are set apart. Returns null when that
// would be too large to compute; the caller then compares in place.
function diffLines(a, b) {
  var head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  var tail = 0;
  while (tail < a.length - head && tail < b.length - head &&
         a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  var x = a.slice(head, a.length - tail), y = b.slice(head, b.length - tail);
  var n = x.length, m = y.length;
  if ((n + 1) * (m + 1) > MAX_DIFF_CELLS) return null;
  // lengths[i * (m + 1) + j]: the longest common subsequence of x[i:] and y[j:].
  var lengths = new Uint32Array((n + 1) * (m + 1));
  for (var i = n - 1; i >= 0; i--) {
    for (var j = m - 1; j >= 0; j--) {
      lengths[i * (m + 1) + j] = x[i] === y[j] ? lengths[(i + 1) * (m + 1) + j + 1] + 1 :
        Math.max(lengths[(i + 1) * (m + 1) + j], lengths[i * (m + 1) + j + 1]);
    }
  }
  var out = a.slice(0, head).map(function (line) { return [" ", line]; });
  i = 0;
  j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push([" ", x[i]]);
      i++;
      j++;
    } else if (i < n && (j === m ||
               lengths[(i + 1) * (m + 1) + j] >= lengths[i * (m + 1) + j + 1])) {
      out.push(["-", x[i]]);  // a line of the first target's only
      i++;
    } else {
      out.push(["+", y[j]]);  // a line of this target's only
      j++;
    }
  }
  return out.concat(a.slice(a.length - tail).map(function (line) { return [" ", line]; }));
}

// Line i of a against line i of b, for bodies too long to align.
function inPlace(a, b) {
  var out = [];
  for (var i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) {
      out.push([" ", a[i]]);
    } else {
      if (i < a.length) out.push(["-", a[i]]);
      if (i < b.length) out.push(["+", b[i]]);
    }
  }
  return out;
}

// Into box (a .target-diff or .target-headers-diff): that this target's text is the first
// target's, or the line diff between them under a note (words: same, differs, tooLong?).
function compareText(box, first, other, words) {
  var note = box.querySelector(".target-diff-note");
  box.hidden = false;
  if (other === first) {
    note.textContent = words.same;
    box.querySelector("pre.diff").hidden = true;
    return;
  }
  var a = first.split("\n"), b = other.split("\n");
  var lines = diffLines(a, b);
  note.textContent = words.differs + (lines || !words.tooLong ? "" : " " + words.tooLong);
  showDiff(box, lines || inPlace(a, b));
}

// Marks this target's status when it is not the first target's, and says which that was.
function compareStatus(article, first, other, text, target) {
  if (first.status === other.status) return;
  article.querySelector(".target-status").classList.add("status-differs");
  var note = article.querySelector(".target-status-diff");
  note.textContent = format(text.statusDiffers, {
    target: target, status: first.status === null ? text.noStatus : String(first.status) });
  note.hidden = false;
}

function showDiff(box, lines) {
  var pre = box.querySelector("pre.diff");
  pre.replaceChildren();
  var classes = { " ": "diff-same", "-": "diff-del", "+": "diff-add" };
  lines.forEach(function (line) {
    var span = document.createElement("span");
    span.className = "diff-line " + classes[line[0]];
    span.textContent = line[0] + " " + line[1] + "\n";
    pre.append(span);
  });
}

function showAnswer(article, call, text) {
  var status = article.querySelector(".target-status");
  if (call.status === null) {
    status.textContent = format(text.noAnswer, { error: call.error || "" });
    status.className = "target-status status failed";
  } else {
    status.textContent = String(call.status) + (call.error ? " · " + call.error : "");
    status.className = "target-status status s" + Math.floor(call.status / 100) + "xx";
  }
  var rows = article.querySelector(".target-headers");
  rows.replaceChildren();
  Object.keys(call.response_headers || {}).forEach(function (name) {
    var row = document.createElement("tr"), th = document.createElement("th");
    var td = document.createElement("td");
    th.textContent = name;
    td.textContent = call.response_headers[name];
    row.append(th, td);
    rows.append(row);
  });
  var body = bodyText(call), pre = article.querySelector(".target-body");
  if (body === null) {
    pre.textContent = call.response_body_base64 ?
      format(text.binary, { size: call.response_size }) : text.noBody;
  } else {
    pre.textContent = body || text.noBody;
  }
  return { call: call, body: body };
}

export function start(config) {
  var text = config.text, targets = config.compare.targets;
  var articles = Array.prototype.slice.call(document.querySelectorAll("article.target"));
  function label(index) {
    return articles[index].querySelector("h2").textContent.replace(/\s+/g, " ").trim();
  }
  var loads = targets.map(function (target, index) {
    var article = articles[index];
    if (!target.calls.length) return Promise.resolve(null);
    return sendJson("GET", config.callUrl + target.calls[0]).then(function (answer) {
      if (answer.status !== 200 || !answer.data) {
        article.querySelector(".target-body").textContent =
          format(text.loadFailed, { reason: refusalOf(answer, text) });
        return null;
      }
      return showAnswer(article, answer.data, text);
    }, function () {
      article.querySelector(".target-body").textContent =
        format(text.loadFailed, { reason: text.unreachable });
      return null;
    });
  });
  Promise.all(loads).then(function (answers) {
    var first = answers[0], target = label(0);
    for (var index = 1; index < answers.length; index++) {
      var article = articles[index], answer = answers[index];
      if (first === null || answer === null) continue;
      compareStatus(article, first.call, answer.call, text, target);
      if (first.call.status !== null && answer.call.status !== null) {
        compareText(article.querySelector(".target-headers-diff"), headerText(first.call),
                    headerText(answer.call), {
                      same: format(text.headersSameAsFirst, { target: target }),
                      differs: format(text.headersDifferFromFirst, { target: target }) });
      }
      if (first.body === null || answer.body === null) continue;
      compareText(article.querySelector(".target-diff"), first.body, answer.body, {
        same: format(text.sameAsFirst, { target: target }),
        differs: format(text.differsFromFirst, { target: target }),
        tooLong: text.tooLong });
    }
    byId("compare-targets").setAttribute("data-loaded", "true");
  });
}
