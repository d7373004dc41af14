/* The run page's plots, drawn with uPlot (static/vendor/uplot/, loaded on first use by
   util.js's loadUPlot). Each plot is drawn into its element once and given new data after;
   the element's data attributes say what it shows (data-points, data-bars, data-counted,
   data-series), for people and tests alike. samples are the API's [seconds since the run
   began, latency ms, status or null]. */
import { loadUPlot } from "./util.js";

var COLORS = ["#2457c5", "#d97706", "#067647", "#b42318"];
var ERROR_COLOR = "#b42318";
var HEIGHT = 260;
// A count's axis steps: whole requests.
var COUNTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
var plots = new WeakMap();  // element -> {plot, shape}

// The p-th linear percentile of sorted values, as services/runs/stats.py computes it.
function percentile(ordered, p) {
  var rank = p / 100 * (ordered.length - 1);
  var low = Math.floor(rank), high = Math.min(low + 1, ordered.length - 1);
  return ordered[low] + (ordered[high] - ordered[low]) * (rank - low);
}

function latencies(samples) {
  return samples.map(function (sample) { return sample[1]; })
    .sort(function (a, b) { return a - b; });
}

function widthOf(element) {
  return Math.max(element.clientWidth, 240);
}

// Draws options with data into element, or gives an existing plot of the same shape new data.
function draw(uPlot, element, shape, options, data) {
  var known = plots.get(element);
  if (known && known.shape === shape) {
    known.plot.setData(data);
    return;
  }
  if (known) known.plot.destroy();
  element.replaceChildren();
  options.width = widthOf(element);
  options.height = HEIGHT;
  var plot = new uPlot(options, data, element);
  plots.set(element, { plot: plot, shape: shape });
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      var current = plots.get(element);
      if (current && current.plot === plot) plot.setSize({ width: widthOf(element),
                                                            height: HEIGHT });
    }).observe(element);
  }
}

function empty(element, words) {
  var known = plots.get(element);
  if (known) known.plot.destroy();
  plots.delete(element);
  var note = document.createElement("p");
  note.className = "muted plot-empty";
  note.textContent = words;
  element.replaceChildren(note);
}

function dots(color) {
  return { show: true, size: 5, width: 1, stroke: color, fill: color };
}

function fromZero(_u, _min, max) {
  return [0, max > 0 ? max * 1.08 : 1];
}

// Latency over time: one point per request, 2xx in blue, the others in red.
export function drawScatter(element, samples, text) {
  element.setAttribute("data-points", String(samples.length));
  if (!samples.length) {
    empty(element, text.noSamples);
    return Promise.resolve();
  }
  return loadUPlot().then(function (uPlot) {
    var sorted = samples.slice().sort(function (a, b) { return a[0] - b[0]; });
    var xs = [], ok = [], other = [];
    sorted.forEach(function (sample) {
      var good = sample[2] !== null && sample[2] >= 200 && sample[2] < 300;
      xs.push(sample[0]);
      ok.push(good ? sample[1] : null);
      other.push(good ? null : sample[1]);
    });
    draw(uPlot, element, "scatter", {
      scales: {
        // From the run's start, and at least a second wide while the first answers come.
        x: { time: false, range: function (_u, _min, max) { return [0, Math.max(max, 1)]; } },
        y: { range: fromZero }
      },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: text.sinceStart },
        { label: text.ok, stroke: COLORS[0], paths: function () { return null; },
          points: dots(COLORS[0]) },
        { label: text.notOk, stroke: ERROR_COLOR, paths: function () { return null; },
          points: dots(ERROR_COLOR) }
      ],
      axes: [{ label: text.sinceStart }, { label: text.latency, size: 60 }]
    }, [xs, ok, other]);
  });
}

// The bins of a histogram of values: about √n of them (5 to 40) of equal width.
function bins(values) {
  var ordered = values.slice().sort(function (a, b) { return a - b; });
  var low = ordered[0], high = ordered[ordered.length - 1];
  var count = Math.min(40, Math.max(5, Math.ceil(Math.sqrt(ordered.length))));
  if (high === low) count = 1;
  var width = count === 1 ? Math.max(1, low * 0.1) : (high - low) / count;
  var centers = [], counts = [];
  for (var i = 0; i < count; i++) {
    centers.push(low + width * (i + 0.5) - (count === 1 ? width / 2 : 0));
    counts.push(0);
  }
  ordered.forEach(function (value) {
    var index = count === 1 ? 0 : Math.min(count - 1, Math.floor((value - low) / width));
    counts[index] += 1;
  });
  return { centers: centers, counts: counts, width: width };
}

// Latency histogram: how many requests took how long, as bars.
export function drawHistogram(element, samples, text) {
  if (!samples.length) {
    element.setAttribute("data-bars", "0");
    element.setAttribute("data-counted", "0");
    empty(element, text.noSamples);
    return Promise.resolve();
  }
  var binned = bins(latencies(samples));
  element.setAttribute("data-bars", String(binned.counts.length));
  element.setAttribute("data-counted", String(binned.counts.reduce(function (a, b) {
    return a + b;
  }, 0)));
  return loadUPlot().then(function (uPlot) {
    var half = binned.width / 2;
    draw(uPlot, element, "histogram", {
      scales: {
        x: { time: false, range: function (_u, min, max) { return [min - half, max + half]; } },
        y: { range: fromZero }
      },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: text.latency },
        { label: text.requests, stroke: COLORS[0], fill: "rgba(36, 87, 197, 0.35)",
          paths: uPlot.paths.bars({ size: [0.92, Infinity], align: 0 }),
          points: { show: false } }
      ],
      axes: [{ label: text.latency }, { label: text.requests, size: 50, incrs: COUNTS }]
    }, [binned.centers, binned.counts]);
  });
}

// Runs side by side: for each percentile from 0 to 100, each run's latency, one line a run.
export function drawOverlay(element, runs, text) {
  var shown = runs.filter(function (run) { return run.samples.length; });
  element.setAttribute("data-series", String(shown.length));
  element.setAttribute("data-points", shown.length ? "101" : "0");
  if (!shown.length) {
    empty(element, text.noSamples);
    return Promise.resolve();
  }
  return loadUPlot().then(function (uPlot) {
    var xs = [];
    for (var p = 0; p <= 100; p++) xs.push(p);
    var data = [xs], series = [{ label: text.percentile }];
    shown.forEach(function (run, index) {
      var ordered = latencies(run.samples);
      data.push(xs.map(function (p) { return percentile(ordered, p); }));
      series.push({ label: run.label, stroke: COLORS[index % COLORS.length], width: 2,
                    points: { show: false } });
    });
    draw(uPlot, element, "overlay-" + shown.length, {
      scales: { x: { time: false, range: [0, 100] }, y: { range: fromZero } },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: series,
      axes: [{ label: text.percentile }, { label: text.latency, size: 60 }]
    }, data);
  });
}
