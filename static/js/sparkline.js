/* The latency sparklines of the status board and of a service's page, drawn with uPlot
   (static/vendor/uplot/, loaded by util.js's loadUPlot). The page hands the data in
   #sparkline-data (services/status.py, charts()): {slug: [mean latency in ms by the hour,
   oldest first, null for an hour without checks]}. Each is drawn into its [data-sparkline="slug"] box in place of
   the SVG the server drew, which stays if uPlot cannot load. */

import { byId, loadUPlot, readJson } from "./util.js";

var WIDTH = 120;
var HEIGHT = 24;
var COLOR = "#2563eb";

// A line from zero (the bottom) to the largest value (the top), across the hours without
// checks as the SVG is; a lone value shows as a dot.
function options(values) {
  var known = values.filter(function (value) { return value !== null; });
  return {
    width: WIDTH,
    height: HEIGHT,
    padding: [2, 2, 2, 2],
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    axes: [{ show: false }, { show: false }],
    scales: { x: { time: false, range: [0, values.length - 1] },
              y: { range: [0, Math.max.apply(null, known) || 1] } },
    series: [{}, { stroke: COLOR, width: 1.5, spanGaps: true,
                   points: { show: known.length === 1, size: 4, fill: COLOR } }],
  };
}

function drawAll(uPlot, data) {
  document.querySelectorAll("[data-sparkline]").forEach(function (box) {
    var values = data[box.dataset.sparkline];
    if (!values) return;
    var hours = values.map(function (_value, hour) { return hour; });
    box.replaceChildren();
    new uPlot(options(values), [hours, values], box);
  });
}

if (byId("sparkline-data")) {
  var data = readJson("sparkline-data");
  loadUPlot().then(function (uPlot) { drawAll(uPlot, data); })
    .catch(function () { /* the SVG the server drew stays */ });
}
