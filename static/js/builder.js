/* The request builder: the live URL, suggested paths, header rows, the body checks, and Send,
   which posts to the JSON API and shows the recorded call (static/js/response.js), or, for a
   streamed answer, shows it as it arrives (static/js/stream_panel.js) with Stop in its place.
   Saving the form (builder_save.js) and importing a curl command into it (builder_import.js)
   go through what this module exports. */
import { joinUrl, refusalText } from "./join.js";
import { render as renderResponse } from "./response.js";
import { streamInvoke } from "./stream.js";
import { open as openStreamPanel } from "./stream_panel.js";
import { byId, csrfToken as readCsrfToken, format, parseJsonOrNull, readJson } from "./util.js";

// Only a page with the form runs start(): a module's top level cannot return early.
function start(form) {
  var config = readJson("builder-config");
  var text = config.text;
  var encoder = new TextEncoder();

  var path = byId("path"), method = byId("method"), body = byId("body");
  var formError = byId("form-error"), sendButton = byId("send"), sendState = byId("send-state");
  var streamBox = byId("stream"), streamNote = byId("stream-note"), stopButton = byId("stop");
  // What the body last said about "stream": the checkbox follows the body when that changes,
  // and is the user's to toggle in between.
  var bodyAsked, bodyDoesNotAsk = false;
  // The base64 of a binary body the form cannot show (it started from one): saving keeps it
  // while the body field stays empty.
  var keptBody = config.keptBody || null;

  function endpointKind() {
    var checked = form.querySelector("input[name=endpoint]:checked");
    return checked ? checked.value : Object.keys(config.bases)[0];
  }

  // The URL as the server will join it, or the reason it will refuse the path.
  function joined() {
    return joinUrl(config.bases[endpointKind()] || "", path.value);
  }

  function updateUrl() {
    var result = joined(), url = byId("full-url"), refused = byId("url-refused");
    url.hidden = result.url === undefined;
    refused.hidden = !url.hidden;
    if (result.url !== undefined) {
      url.textContent = result.url;
    } else {
      refused.textContent = refusalText(result.refused, path.value, config.refusals);
    }
  }

  function positionOf(error, source) {
    // Chromium: "... at position 12 (line 2 column 3)"; Firefox: "at line 2 column 3".
    var lineColumn = /line (\d+) column (\d+)/.exec(error.message);
    if (lineColumn) return { line: lineColumn[1], column: lineColumn[2] };
    var position = /position (\d+)/.exec(error.message);
    if (!position) return null;
    var before = source.slice(0, parseInt(position[1], 10)).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }

  function checkJson() {
    var status = byId("json-status"), source = body.value;
    status.className = "json-status";
    if (!source.trim()) {
      status.textContent = text.emptyBody;
      return null;
    }
    try {
      var parsed = JSON.parse(source);
      status.textContent = text.validJson;
      status.classList.add("ok");
      return { value: parsed };
    } catch (error) {
      var where = positionOf(error, source);
      status.textContent = where ?
        format(text.invalidJson, { line: where.line, column: where.column,
                                   reason: error.message }) :
        format(text.invalidJsonAnywhere, { reason: error.message });
      status.classList.add("bad");
      return null;
    }
  }

  function updateBody() {
    var size = encoder.encode(body.value).length, count = byId("byte-count");
    var warning = byId("size-warning"), over = size > config.limit;
    count.textContent = format(text.bytes, { size: size.toLocaleString(),
                                             limit: config.limit.toLocaleString() });
    count.classList.toggle("over", over);
    warning.hidden = !over;
    warning.textContent = over ? format(text.overLimit, { limit: config.limit }) : "";
    var parsed = checkJson();
    byId("format-body").disabled = !parsed;
    followStream(parsed);
  }

  // A JSON object body with "stream": true asks the service for a streamed answer, which is
  // worth reading as it arrives; a body that is not JSON leaves the choice as it is.
  function followStream(parsed) {
    var value = parsed && parsed.value;
    var isObject = value !== null && typeof value === "object" && !Array.isArray(value);
    if (isObject) {
      var asks = value.stream === true;
      if (asks !== bodyAsked) streamBox.checked = asks;
      bodyAsked = asks;
    }
    bodyDoesNotAsk = isObject && value.stream !== true;
    updateStreamNote();
  }

  // Streaming an answer the body did not ask to be streamed works, but it comes whole.
  function updateStreamNote() {
    streamNote.hidden = !(streamBox.checked && bodyDoesNotAsk);
  }

  function bodyIsUntouched() {
    return !body.value.trim() || config.templates.indexOf(body.value) !== -1;
  }

  form.querySelectorAll(".preset").forEach(function (button) {
    button.addEventListener("click", function () {
      path.value = button.getAttribute("data-path");
      method.value = button.getAttribute("data-method");
      // Replace the body only while it is still a template: never overwrite the user's work.
      if (bodyIsUntouched()) body.value = button.getAttribute("data-body");
      updateUrl();
      updateBody();
      path.focus();
    });
  });

  byId("format-body").addEventListener("click", function () {
    var parsed = checkJson();
    if (parsed) {
      body.value = JSON.stringify(parsed.value, null, 2);
      updateBody();
    }
  });

  var rows = byId("header-rows");
  function newRow(name, value) {
    var row = byId("header-row-template").content.firstElementChild.cloneNode(true);
    row.querySelector(".header-name").value = name;
    row.querySelector(".header-value").value = value;
    rows.append(row);
    return row;
  }
  byId("add-header").addEventListener("click", function () {
    newRow("", "").querySelector(".header-name").focus();
  });
  rows.addEventListener("click", function (event) {
    var remove = event.target.closest(".remove-header");
    if (remove) remove.closest("tr").remove();
  });
  rows.addEventListener("input", function (event) {
    // A re-entered value no longer needs the "redacted in history" note.
    var note = event.target.closest("td").querySelector(".redacted-note");
    if (note && event.target.value) note.remove();
  });

  // keepRedacted: a redacted value left empty is kept as the placeholder (for saving).
  function headers(keepRedacted) {
    var result = {};
    rows.querySelectorAll("tr.header-row").forEach(function (row) {
      var name = row.querySelector(".header-name").value.trim();
      var value = row.querySelector(".header-value").value;
      if (!name && value.trim()) throw new Error(text.headerWithoutName);
      // Sending the empty stand-in for a redacted value would not repeat the call.
      if (name && !value && row.querySelector(".redacted-note")) {
        if (!keepRedacted) throw new Error(format(text.redactedHeader, { name: name }));
        value = config.redacted;
      }
      if (name) result[name] = value;
    });
    return result;
  }

  function payload() {
    return { endpoint: endpointKind(), method: method.value, path: path.value,
             headers: headers(), body: body.value };
  }

  // The request to keep as a saved request: a header row marked redacted and left empty stays
  // "[redacted]" (the saved request keeps its placeholder), a binary body the form could not
  // show is kept while the body field is empty.
  function savedPayload() {
    var kept = { endpoint: endpointKind(), method: method.value, path: path.value,
                 headers: headers(true) };
    if (keptBody !== null && !body.value) {
      kept.body_base64 = keptBody;
    } else {
      kept.body = body.value;
    }
    return kept;
  }

  // Puts a request into the form (an imported curl command): the endpoint if the service has
  // it, the method if the form offers it, the path, the header rows, the body (body_base64: the
  // field stays empty, the bytes are kept for saving). Returns whether the method was taken.
  function fill(request) {
    var radio = form.querySelector("input[name=endpoint][value='" + request.endpoint + "']");
    if (request.endpoint && config.bases[request.endpoint] && radio) radio.checked = true;
    var before = method.value;
    method.value = request.method;
    var methodTaken = method.value === request.method;
    if (!methodTaken) method.value = before;
    path.value = request.path;
    rows.querySelectorAll("tr.header-row").forEach(function (row) { row.remove(); });
    Object.keys(request.headers || {}).forEach(function (name) {
      newRow(name, request.headers[name]);
    });
    body.value = request.body_base64 ? "" : (request.body || "");
    keptBody = request.body_base64 || null;
    updateUrl();
    updateBody();
    // For the snippet panel, which follows the form's input events.
    form.dispatchEvent(new Event("input", { bubbles: true }));
    return methodTaken;
  }

  function showError(message) {
    formError.textContent = message;
    formError.hidden = !message;
  }

  function finish() {
    sendButton.disabled = false;
    sendState.textContent = "";
  }

  function showRefusal(status, detail) {
    byId("response").hidden = true;
    if (detail) {
      showError(typeof detail === "string" ? detail : JSON.stringify(detail));
    } else if (status === 401) {
      showError(text.loggedOut);
    } else {
      showError(format(text.httpError, { status: status }));
    }
  }

  // Send as a stream: Stop stands in for Send until the answer ends, however it ends.
  function sendStreamed(invoked, url) {
    var panel = openStreamPanel(config, url);
    var handle = streamInvoke(config.invokeUrl, invoked, readCsrfToken(), {
      onOpen: panel.onOpen,
      onHead: panel.onHead,
      onData: panel.onData,
      onCall: panel.onCall,
      onRefused: showRefusal,
      onFailed: function () {
        if (!panel.broke()) {
          byId("response").hidden = true;
          showError(text.unreachable);
        }
      }
    });
    sendButton.hidden = true;
    stopButton.hidden = false;
    stopButton.disabled = false;
    stopButton.focus();
    sendState.textContent = text.streaming;
    stopButton.onclick = function () {
      stopButton.disabled = true;
      handle.stop();
      panel.stop();
    };
    handle.done.then(function () {
      var hadFocus = document.activeElement === stopButton;
      stopButton.hidden = true;
      stopButton.onclick = null;
      sendButton.hidden = false;
      finish();
      if (hadFocus) sendButton.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    var result = joined();
    if (result.url === undefined) {
      showError(format(text.pathRefused, {
        reason: refusalText(result.refused, path.value, config.refusals) }));
      return;
    }
    var invoked;
    try {
      invoked = payload();
    } catch (error) {
      showError(error.message);
      return;
    }
    sendButton.disabled = true;
    if (streamBox.checked) {
      sendStreamed(invoked, result.url);
      return;
    }
    sendState.textContent = text.sending;
    fetch(config.invokeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": readCsrfToken() },
      body: JSON.stringify(invoked)
    }).then(function (response) {
      return response.text().then(function (raw) {
        var data = parseJsonOrNull(raw);  // null if not JSON: reported by status below
        finish();
        if (response.status === 200 && data && data.id !== undefined) {
          renderResponse(data, config);
          return;
        }
        showRefusal(response.status, data && data.detail);
      });
    }).catch(function () {
      finish();
      showError(text.unreachable);
    });
  });

  path.addEventListener("input", updateUrl);
  form.querySelectorAll("input[name=endpoint]").forEach(function (radio) {
    radio.addEventListener("change", updateUrl);
  });
  body.addEventListener("input", updateBody);
  streamBox.addEventListener("change", updateStreamNote);
  updateUrl();
  updateBody();
  return { payload: payload, csrfToken: readCsrfToken, savedPayload: savedPayload, fill: fill };
}

var form = byId("builder-form");

// For static/js/snippets.js, which shows the snippet of the form as it stands:
// payload() is the invoke body the form describes ({endpoint, method, path, headers, body});
// it throws an Error with a message for the user when the header rows cannot be sent as they
// are. csrfToken() is the value for the X-CSRFToken header. savedPayload() is the request to
// save (a POST or PATCH body of /api/.../requests), fill(request) puts one into the form. All
// are undefined without the form.
export const { payload, csrfToken, savedPayload, fill } = form ? start(form) : {};
