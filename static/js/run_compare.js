/* A compare's page (templates/services/runs/run_detail.html): each target's first answer
   (GET /api/calls/{id}) with its status, headers and body, and under every target but the
   first, a line diff of its body against the first target's. */
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
  return body;
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
  Promise.all(loads).then(function (bodies) {
    var first = bodies[0];
    for (var index = 1; index < bodies.length; index++) {
      var box = articles[index].querySelector(".target-diff");
      if (!box || first === null || bodies[index] === null) continue;
      var note = box.querySelector(".target-diff-note");
      box.hidden = false;
      if (bodies[index] === first) {
        note.textContent = format(text.sameAsFirst, { target: label(0) });
        box.querySelector("pre.diff").hidden = true;
        continue;
      }
      var a = first.split("\n"), b = bodies[index].split("\n");
      var lines = diffLines(a, b);
      note.textContent = format(text.differsFromFirst, { target: label(0) }) +
        (lines ? "" : " " + text.tooLong);
      showDiff(box, lines || inPlace(a, b));
    }
    byId("compare-targets").setAttribute("data-loaded", "true");
  });
}
