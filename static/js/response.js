/* The builder's response panel: renders a recorded Call as the JSON API returns it. */
import { show as showHint } from "./hints.js";
import { byId, format } from "./util.js";

var REASONS = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
  307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict",
  410: "Gone", 413: "Content Too Large", 415: "Unsupported Media Type",
  422: "Unprocessable Content", 429: "Too Many Requests",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
  503: "Service Unavailable", 504: "Gateway Timeout"
};
var HEX_PREVIEW_BYTES = 64;

function hexPreview(base64) {
  var raw = atob(base64), lines = [], line = [];
  for (var i = 0; i < Math.min(raw.length, HEX_PREVIEW_BYTES); i++) {
    var code = raw.charCodeAt(i);
    line.push((code < 16 ? "0" : "") + code.toString(16));
    if (line.length === 16) { lines.push(line.join(" ")); line = []; }
  }
  if (line.length) lines.push(line.join(" "));
  return lines.join("\n");
}

function bodyText(call, text) {
  if (call.response_body === null || call.response_body === undefined) {
    if (!call.response_body_base64) return { text: "", note: text.noBody };
    return { text: hexPreview(call.response_body_base64),
             note: format(text.binary, { size: call.response_size }) };
  }
  if (call.response_body === "") return { text: "", note: text.noBody };
  try {
    return { text: JSON.stringify(JSON.parse(call.response_body), null, 2), note: "" };
  } catch (e) {
    return { text: call.response_body, note: "" };
  }
}

export function render(call, config) {
  var text = config.text, panel = byId("response");
  var status = byId("response-status");
  status.className = "status";
  if (call.error) {
    status.textContent = call.status ? call.status + " · " + text.failed : text.failed;
    status.classList.add("failed");
  } else {
    status.textContent = call.status + (REASONS[call.status] ? " " + REASONS[call.status] : "");
    status.classList.add("s" + Math.floor(call.status / 100) + "xx");
  }
  byId("response-elapsed").textContent = format(text.elapsed,
                                                { ms: Math.round(call.elapsed_ms) });
  byId("response-size").textContent = call.error && !call.status ? "" :
    format(text.size, { size: call.response_size.toLocaleString() });
  byId("response-url").textContent = call.url;
  byId("response-call-link").href = config.callsUrl + call.id + "/";

  var error = byId("response-error");
  error.textContent = call.error || "";
  error.hidden = !call.error;
  var truncated = byId("response-truncated");
  truncated.hidden = !call.response_truncated;
  if (call.response_truncated) {
    truncated.textContent = call.response_declared_size === null ?
      format(text.truncatedUndeclared, { size: call.response_size }) :
      format(text.truncated, { size: call.response_size,
                               declared: call.response_declared_size });
  }

  var rows = byId("response-headers");
  rows.replaceChildren();
  Object.keys(call.response_headers || {}).forEach(function (name) {
    var row = document.createElement("tr"), th = document.createElement("th"),
        td = document.createElement("td");
    th.textContent = name;
    td.textContent = call.response_headers[name];
    row.append(th, td);
    rows.append(row);
  });
  byId("response-headers-box").hidden = !rows.children.length;

  var body = bodyText(call, text), note = byId("response-body-note");
  note.textContent = body.note;
  note.hidden = !body.note;
  byId("response-body").textContent = body.text;
  byId("response-body").hidden = !body.text;

  showHint(panel.querySelector("[data-hints]"), call);
  panel.hidden = false;
}
