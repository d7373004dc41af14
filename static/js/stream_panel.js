/* The builder's response panel while a streamed answer arrives (static/js/stream.js): the
   status from the head, the body growing piece by piece (an OpenAI-shaped answer as its text,
   the reasoning folded apart, with the raw events a toggle away), then the recorded call and
   its figures (static/js/response.js). */
import { renderCall, renderHeaders, renderStatus, showBodyView } from "./response.js";
import { openaiAssembler } from "./stream.js";
import { byId, parseJsonOrNull } from "./util.js";

// A stopped call is completed by the portal once it notices the browser went, which takes a
// fraction of a second (it writes a ping every 0.25 s): ask for the record until it is done.
var POLL_MS = 300;
var POLLS = 20;
// Which answer the panel shows: a record that arrives late for an earlier one is not shown
// over a later answer, streamed (a newer open()) or not (the stream view hidden).
var current = 0;

// Readies the panel for a new answer to a request sent to url; returns the handlers for
// streamInvoke, and stop() and broke() for when the answer ends without its call event.
export function open(config, url) {
  var mine = ++current, text = config.text, assembler = openaiAssembler();
  var state = { content: "", reasoning: "", openai: false };
  var shown = { content: 0, reasoning: 0 }, received = 0, callId = null, recorded = false;
  var raw = byId("response-raw-body"), content = byId("response-text");
  var reasoning = byId("response-reasoning"), rawToggle = byId("response-raw");
  var note = byId("response-body-note"), link = byId("response-call-link");

  renderStatus(null, false, text);
  byId("response-elapsed").textContent = "";
  byId("response-size").textContent = "";
  byId("response-url").textContent = url;
  ["response-error", "response-truncated", "response-figures", "response-stopped"]
    .forEach(function (id) { byId(id).hidden = true; });
  byId("response-streamed").hidden = false;
  link.hidden = true;  // until the portal says which call it recorded
  renderHeaders({});
  byId("response").querySelectorAll("[data-hint]").forEach(function (hint) {
    hint.hidden = true;
  });
  raw.replaceChildren();
  content.replaceChildren();
  reasoning.replaceChildren();
  byId("response-reasoning-box").open = false;
  note.textContent = text.waiting;
  note.hidden = false;
  showBodyView("stream");
  layout();
  byId("response").hidden = false;

  // The assembled text when the answer is OpenAI-shaped, unless the raw events are asked for.
  function layout() {
    var showRaw = !state.openai || rawToggle.checked;
    byId("response-stream-views").hidden = !state.openai;
    byId("response-assembled").hidden = showRaw;
    byId("response-reasoning-box").hidden = !state.reasoning;
    raw.hidden = !showRaw;
  }
  // Assigned, not added: each answer's panel replaces the last one's listener.
  rawToggle.onchange = layout;

  // Appending only what is new keeps a long answer cheap: no re-rendering of what is shown.
  function grow(element, whole, key) {
    if (whole.length > shown[key]) {
      element.append(whole.slice(shown[key]));
      shown[key] = whole.length;
    }
  }

  function stale() {
    return mine !== current || byId("response-stream").hidden;
  }

  function showRecorded(call) {
    if (stale()) return;
    recorded = true;
    renderCall(call, config);
    note.textContent = received ? "" : text.noBody;
    note.hidden = !!received;
    layout();
  }

  // The record of a call that ended without its call event, once the portal completed it.
  function fetchRecord(polls) {
    if (callId === null || recorded || stale()) return;
    fetch(config.callApiUrl + callId, { credentials: "same-origin",
                                        headers: { "Accept": "application/json" } })
      .then(function (response) { return response.text(); })
      .then(function (body) {
        var call = parseJsonOrNull(body);
        // Written at the start with elapsed_ms 0, completed with stopped or the time taken.
        if (call && call.id !== undefined && (call.stopped || call.elapsed_ms > 0)) {
          showRecorded(call);
        } else if (polls > 1) {
          setTimeout(function () { fetchRecord(polls - 1); }, POLL_MS);
        }
      })
      .catch(function () { /* the panel keeps what it has: the link leads to the record */ });
  }

  return {
    onOpen: function (id) {
      if (!/^\d+$/.test(id || "")) return;
      callId = id;
      link.href = config.callsUrl + id + "/";
      link.hidden = false;
    },
    onHead: function (head) {
      var status = typeof head.status === "number" ? head.status : null;
      renderStatus(status, false, text);
      renderHeaders(head.headers && typeof head.headers === "object" ? head.headers : {});
      note.hidden = true;
    },
    onData: function (piece) {
      if (typeof piece !== "string" || !piece) return;
      received += piece.length;
      note.hidden = true;
      raw.append(piece);
      state = assembler.feed(piece);
      grow(content, state.content, "content");
      grow(reasoning, state.reasoning, "reasoning");
      layout();
    },
    onCall: function (call) {
      if (call.id === undefined) return;
      showRecorded(call);
    },
    // The user stopped the answer: say so now, show the record's figures once it is written.
    stop: function () {
      byId("response-stopped").hidden = false;
      if (!received) note.textContent = text.noBody;
      fetchRecord(POLLS);
    },
    // The stream broke off before its call event (or never opened): false when there is no
    // call to show, and the page should say why instead.
    broke: function () {
      if (callId === null) return false;
      var error = byId("response-error");
      error.textContent = text.streamBroken;
      error.hidden = false;
      fetchRecord(POLLS);
      return true;
    }
  };
}
