/* The builder's "Capacity run…" and "Compare…" dialogs (templates/services/builder/
   run_dialog.html, compare_dialog.html), both with the form's request as Send would send it.
   A capacity run is checked first (POST /api/services/{slug}/runs with "dry_run": true): the
   dialog shows what the run will send, or the server's refusal, and Start is offered only for
   the numbers that passed; Start queues it and opens its page. A compare sends the request to
   the targets picked (POST /api/compare) and opens its page. ?run=1 opens the run dialog. */
import { payload } from "./builder.js";
import { byId, format, readJson, refusalOf, sendJson } from "./util.js";

var CHECK_DELAY_MS = 300;

function showError(box, words) {
  box.textContent = words || "";
  box.hidden = !words;
}

// The form's request, or the form's own complaint (a header without a name, say).
function request() {
  try {
    return { request: payload() };
  } catch (error) {
    return { problem: error.message };
  }
}

function wholeNumber(input) {
  var value = input.value.trim();
  return /^\d+$/.test(value) ? parseInt(value, 10) : null;
}

function startRun(config, dialog) {
  var text = config.text, error = byId("run-error"), state = byId("run-dialog-state");
  var startButton = byId("run-start");
  var numbers = [byId("run-total"), byId("run-concurrency"), byId("run-seconds")];
  var passed = null;  // the body of the last check that passed, as JSON
  var checks = 0;     // an answer to an older check is dropped
  var timer = null;

  // {body} of the run the dialog describes, or {problem}.
  function described(dryRun) {
    var values = numbers.map(wholeNumber);
    if (values.indexOf(null) !== -1) return { problem: text.wholeNumbers };
    var wanted = request();
    if (wanted.problem) return wanted;
    return { body: { request: wanted.request, total: values[0], concurrency: values[1],
                     max_seconds: values[2], dry_run: dryRun } };
  }

  function showPreview(preview) {
    byId("run-preview-method").textContent = preview.method;
    byId("run-preview-url").textContent = preview.url;
    var rows = byId("run-preview-headers");
    rows.replaceChildren();
    var headers = Object.keys(preview.headers).map(function (name) {
      return [name, preview.headers[name], false];
    });
    headers.push(["Authorization", text.token, true]);
    headers.forEach(function (header) {
      var row = document.createElement("tr"), th = document.createElement("th");
      var td = document.createElement("td");
      th.textContent = header[0];
      td.textContent = header[1];
      if (header[2]) td.className = "muted";
      row.append(th, td);
      rows.append(row);
    });
    byId("run-preview-body").textContent = format(text.bytes, {
      size: preview.body_size.toLocaleString() });
    byId("run-preview-size").textContent = format(text.requests, {
      total: preview.total, concurrency: preview.concurrency });
    byId("run-preview-limit").textContent = format(text.seconds, {
      seconds: preview.max_seconds });
    byId("run-preview").hidden = false;
  }

  function check() {
    window.clearTimeout(timer);
    passed = null;
    startButton.disabled = true;
    var mine = ++checks, wanted = described(true);
    if (wanted.problem) {
      byId("run-preview").hidden = true;
      showError(error, wanted.problem);
      state.textContent = "";
      return;
    }
    state.textContent = text.checking;
    sendJson("POST", config.runsUrl, wanted.body).then(function (answer) {
      if (mine !== checks) return;
      state.textContent = "";
      if (answer.status === 200 && answer.data && answer.data.url !== undefined) {
        showError(error, "");
        showPreview(answer.data);
        passed = JSON.stringify(wanted.body);
        startButton.disabled = false;
      } else {
        byId("run-preview").hidden = true;
        showError(error, refusalOf(answer, text));
      }
    }, function () {
      if (mine !== checks) return;
      state.textContent = "";
      showError(error, text.unreachable);
    });
  }

  numbers.forEach(function (input) {
    input.addEventListener("input", function () {
      startButton.disabled = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(check, CHECK_DELAY_MS);
    });
  });

  byId("run-dialog-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (startButton.disabled) return;
    var checked = described(true);
    if (checked.problem || JSON.stringify(checked.body) !== passed) {
      check();  // something changed since the check: check again before starting
      return;
    }
    var wanted = described(false);
    startButton.disabled = true;
    state.textContent = text.starting;
    sendJson("POST", config.runsUrl, wanted.body).then(function (answer) {
      if (answer.status === 202 && answer.data && answer.data.id !== undefined) {
        window.location.assign(config.runPageUrl + encodeURIComponent(answer.data.id) + "/");
        return;
      }
      state.textContent = "";
      startButton.disabled = false;
      showError(error, refusalOf(answer, text));
    }, function () {
      state.textContent = "";
      startButton.disabled = false;
      showError(error, text.unreachable);
    });
  });

  function open() {
    showError(error, "");
    dialog.showModal();
    numbers[0].focus();
    check();
  }
  byId("capacity-run").addEventListener("click", open);
  byId("run-cancel").addEventListener("click", function () {
    checks++;
    dialog.close();
  });
  if (new URLSearchParams(window.location.search).get("run") === "1") open();
}

function startCompare(config, dialog) {
  var text = config.text, error = byId("compare-error"), state = byId("compare-state");
  var button = byId("compare-start");

  byId("compare").addEventListener("click", function () {
    showError(error, "");
    dialog.showModal();
  });
  byId("compare-cancel").addEventListener("click", function () { dialog.close(); });

  byId("compare-dialog-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) return;
    var targets = [];
    dialog.querySelectorAll("input[name=target]:checked").forEach(function (box) {
      targets.push({ service: box.getAttribute("data-service"),
                     endpoint: box.getAttribute("data-endpoint") });
    });
    var bounds = config.compareTargets, rounds = wholeNumber(byId("compare-rounds"));
    if (targets.length < bounds[0] || targets.length > bounds[1]) {
      showError(error, format(text.pickTargets, { min: bounds[0], max: bounds[1] }));
      return;
    }
    var wanted = request();
    if (wanted.problem) {
      showError(error, wanted.problem);
      return;
    }
    showError(error, "");
    button.disabled = true;
    state.textContent = format(text.comparing, { count: targets.length * (rounds || 0) });
    sendJson("POST", config.compareUrl, { targets: targets, request: wanted.request,
                                          rounds: rounds === null ? 0 : rounds })
      .then(function (answer) {
        if (answer.status === 200 && answer.data && answer.data.id !== undefined) {
          window.location.assign(config.runPageUrl + encodeURIComponent(answer.data.id) + "/");
          return;
        }
        button.disabled = false;
        state.textContent = "";
        showError(error, refusalOf(answer, text));
      }, function () {
        button.disabled = false;
        state.textContent = "";
        showError(error, text.unreachable);
      });
  });
}

var runDialog = byId("run-dialog"), compareDialog = byId("compare-dialog");
if (byId("runs-config") && byId("builder-form")) {
  var runsConfig = readJson("runs-config");
  if (runDialog && runsConfig.mayRun) startRun(runsConfig, runDialog);
  if (compareDialog && runsConfig.targets.length >= 2) startCompare(runsConfig, compareDialog);
}
