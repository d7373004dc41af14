/* The run page (templates/services/runs/run_detail.html). A capacity run: while it is queued or
   running, its state, progress and figures from GET /api/runs/{id} about every 500 ms, and its
   plots (static/js/run_plots.js) from GET /api/runs/{id}/samples about every second, then once
   more when it has ended; Stop for maintainers. Beside another run (?with=<id>), an overlay
   plot of both. A compare: its targets' first answers and their differences
   (static/js/run_compare.js). */
import { start as startCompare } from "./run_compare.js";
import { drawHistogram, drawOverlay, drawScatter } from "./run_plots.js";
import { byId, format, readJson, refusalOf, sendJson } from "./util.js";

var POLL_MS = 500;
var LATENCY = ["mean", "p50", "p90", "p95", "p99", "max"];

function problem(words) {
  var box = byId("run-problem");
  box.textContent = words || "";
  box.hidden = !words;
}

// The figures' texts, as services/views/runs.py writes them.
function figureTexts(run, config) {
  var text = config.text, values = {};
  function number(value) {
    return value === null || value === undefined ? null : value.toFixed(1);
  }
  function ms(value) {
    return value === null || value === undefined ? null : format(text.ms, { ms: value.toFixed(1) });
  }
  function counts(found, labels) {
    var names = Object.keys(found || {}).sort();
    if (!names.length) return null;
    return names.map(function (name) {
      return format(text.count, { name: (labels || {})[name] || name, count: found[name] });
    }).join(", ");
  }
  values.sent = format(text.of, { sent: run.sent, total: run.total });
  values.ok = String(run.ok);
  values.rps = number(run.rps);
  values.elapsed_s = format(text.seconds, { s: run.elapsed_s.toFixed(1) });
  ["latency_ms", "ttft_ms", "tpot_ms"].forEach(function (figure) {
    LATENCY.forEach(function (name) {
      values[figure + "." + name] = ms((run[figure] || {})[name]);
    });
  });
  values.output_tokens_per_s = number(run.output_tokens_per_s);
  values.statuses = counts(run.statuses);
  values.errors = counts(run.errors, config.errorKinds);
  return values;
}

function startCapacity(config) {
  var text = config.text;
  var stopButton = byId("run-stop");
  var active = config.active, polls = 0, otherSamples = null;
  // One load of the samples at a time; one asked for meanwhile follows it (the last one,
  // after the run ended, must start after the state said so).
  var loadingSamples = false, loadAgain = false;

  function showRun(run) {
    var state = byId("run-state");
    state.textContent = text.state[run.state] || run.state;
    state.className = "run-state state-" + run.state;
    byId("run-reason").textContent = run.reason;
    var progress = byId("run-progress");
    progress.max = run.total;
    progress.value = run.sent;
    byId("run-progress-text").textContent = format(text.of, { sent: run.sent,
                                                                total: run.total });
    active = run.state === "queued" || run.state === "running";
    byId("run-progress-box").hidden = !active;
    if (stopButton) {
      stopButton.hidden = !active;
      if (run.stop_requested && active) {
        stopButton.disabled = true;
        stopButton.textContent = text.stopping;
      }
    }
    var values = figureTexts(run, config);
    document.querySelectorAll("#run-figures tbody tr[data-key]").forEach(function (row) {
      var value = values[row.getAttribute("data-key")];
      if (value === undefined) return;
      row.querySelector("td.live").textContent = value === null ? text.none : value;
      if (value !== null) row.hidden = false;
    });
  }

  function plotAll(samples) {
    drawScatter(byId("plot-scatter"), samples, text);
    drawHistogram(byId("plot-histogram"), samples, text);
    if (config.other && otherSamples) {
      drawOverlay(byId("plot-overlay"), [
        { label: text.thisRun, samples: samples },
        { label: format(text.otherRun, { id: config.other.id }), samples: otherSamples }
      ], text);
    }
  }

  function loadSamples() {
    if (loadingSamples) {
      loadAgain = true;
      return;
    }
    loadingSamples = true;
    var other = config.other && otherSamples === null ?
      sendJson("GET", config.other.samplesUrl) : Promise.resolve(null);
    Promise.all([sendJson("GET", config.samplesUrl), other]).then(function (answers) {
      if (answers[1] && answers[1].status === 200) otherSamples = answers[1].data.samples;
      if (answers[0].status === 200 && answers[0].data) {
        plotAll(answers[0].data.samples);
      } else {
        problem(refusalOf(answers[0], text));
      }
    }, function () {
      problem(text.unreachable);
    }).then(function () {
      loadingSamples = false;
      if (loadAgain) {
        loadAgain = false;
        loadSamples();
      }
    });
  }

  function poll() {
    sendJson("GET", config.runUrl).then(function (answer) {
      if (answer.status !== 200 || !answer.data) {
        problem(refusalOf(answer, text));
        window.setTimeout(poll, POLL_MS * 4);
        return;
      }
      problem("");
      showRun(answer.data);
      polls += 1;
      if (!active) {
        loadSamples();  // the last ones: every call was written before the run ended
        return;
      }
      if (polls % 2 === 0) loadSamples();
      window.setTimeout(poll, POLL_MS);
    }, function () {
      problem(text.unreachable);
      window.setTimeout(poll, POLL_MS * 4);
    });
  }

  if (stopButton) {
    stopButton.addEventListener("click", function () {
      stopButton.disabled = true;
      sendJson("POST", config.stopUrl).then(function (answer) {
        if (answer.status === 200 && answer.data) {
          showRun(answer.data);
          return;
        }
        stopButton.disabled = false;
        problem(format(text.stopFailed, { reason: refusalOf(answer, text) }));
      }, function () {
        stopButton.disabled = false;
        problem(format(text.stopFailed, { reason: text.unreachable }));
      });
    });
  }

  var select = byId("compare-with");
  if (select) {
    select.addEventListener("change", function () { byId("compare-with-form").requestSubmit(); });
  }

  loadSamples();
  if (active) window.setTimeout(poll, POLL_MS);
}

var config = byId("run-config") ? readJson("run-config") : null;
if (config && config.kind === "capacity") startCapacity(config);
if (config && config.kind === "compare") startCompare(config);
