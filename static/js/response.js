/* The builder's response panel: renders a recorded Call as the JSON API returns it, and the
   parts of it a streamed answer shows as it arrives (static/js/stream_panel.js). */
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

// The status line: "200 OK" in the status's colour, or "failed" (with the status if any).
export function renderStatus(status, failed, text) {
  var element = byId("response-status");
  element.className = "status";
  if (failed) {
    element.textContent = status ? status + " · " + text.failed : text.failed;
    element.classList.add("failed");
  } else if (status) {
    element.textContent = status + (REASONS[status] ? " " + REASONS[status] : "");
    element.classList.add("s" + Math.floor(status / 100) + "xx");
  } else {
    element.textContent = "";
  }
}

export function renderHeaders(headers) {
  var rows = byId("response-headers");
  rows.replaceChildren();
  Object.keys(headers || {}).forEach(function (name) {
    var row = document.createElement("tr"), th = document.createElement("th"),
        td = document.createElement("td");
    th.textContent = name;
    td.textContent = headers[name];
    row.append(th, td);
    rows.append(row);
  });
  byId("response-headers-box").hidden = !rows.children.length;
}

function oneDecimal(value) {
  return value.toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

// The figures of LLM serving a call carries (services/metrics.py); a row without its figure
// stays hidden, so a call that is not an LLM's shows none.
function renderFigures(call, text) {
  var box = byId("response-figures"), any = false;
  var tokens = call.completion_tokens === null || call.completion_tokens === undefined ? null :
    call.completion_tokens.toLocaleString() +
    (call.tokens_source && text.tokensSource[call.tokens_source] ?
      " " + text.tokensSource[call.tokens_source] : "");
  var values = {
    ttft: call.ttft_ms === null || call.ttft_ms === undefined ? null :
      format(text.elapsed, { ms: Math.round(call.ttft_ms).toLocaleString() }),
    // tokens/s is defined as 1000 / TPOT: output tokens a second after the first.
    rate: call.tpot_ms ? format(text.tokensPerS, { rate: oneDecimal(1000 / call.tpot_ms) }) :
      null,
    tpot: call.tpot_ms ? format(text.elapsed, { ms: oneDecimal(call.tpot_ms) }) : null,
    prompt: call.prompt_tokens === null || call.prompt_tokens === undefined ? null :
      call.prompt_tokens.toLocaleString(),
    completion: tokens,
    finish: call.finish_reason || null
  };
  box.querySelectorAll("[data-figure]").forEach(function (row) {
    var value = values[row.getAttribute("data-figure")];
    row.hidden = value === null;
    row.querySelector("dd").textContent = value === null ? "" : value;
    any = any || value !== null;
  });
  box.hidden = !any;
}

// What the panel shows of a recorded call but its body: the streamed view keeps the body it
// built as the pieces arrived, and shows this once the call event comes.
export function renderCall(call, config) {
  var text = config.text, panel = byId("response");
  renderStatus(call.status, !!call.error, text);
  byId("response-elapsed").textContent = format(text.elapsed,
                                                { ms: Math.round(call.elapsed_ms) });
  byId("response-size").textContent = call.error && !call.status ? "" :
    format(text.size, { size: call.response_size.toLocaleString() });
  byId("response-url").textContent = call.url;
  byId("response-call-link").href = config.callsUrl + call.id + "/";
  byId("response-call-link").hidden = false;
  byId("response-streamed").hidden = !call.streamed;
  byId("response-stopped").hidden = !call.stopped;

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
  renderHeaders(call.response_headers);
  renderFigures(call, text);
  showHint(panel.querySelector("[data-hints]"), call);
  panel.hidden = false;
}

// Shows one of the two ways a body reads: "whole" (#response-body, a call that came whole) or
// "stream" (#response-stream, built as it arrives by static/js/stream_panel.js).
export function showBodyView(kind) {
  byId("response-body").hidden = kind !== "whole";
  byId("response-stream").hidden = kind !== "stream";
}

export function render(call, config) {
  renderCall(call, config);
  showBodyView("whole");
  var body = bodyText(call, config.text), note = byId("response-body-note");
  note.textContent = body.note;
  note.hidden = !body.note;
  byId("response-body").textContent = body.text;
  byId("response-body").hidden = !body.text;
}
