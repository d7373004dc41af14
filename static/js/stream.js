/* A streamed call from the browser (docs/api.md, "Streaming"): POST the invoke body with
   "stream": true and read the portal's events as they arrive: head, data (one per piece of the
   upstream's answer), call (the recorded Call, last). Also: the text of an OpenAI-shaped
   answer, assembled from its events, with the reasoning apart from the content. */

// Reads server-sent events from text as it arrives: feed() returns the events that the text
// completed, each {event, data}; comment lines (the portal's pings) are skipped.
export function eventParser() {
  var buffer = "", name = "", data = [], pendingCR = false;
  return {
    feed: function (text) {
      var events = [];
      // A CRLF split between two pieces is one line end, not two.
      if (pendingCR && text[0] === "\n") text = text.slice(1);
      pendingCR = text[text.length - 1] === "\r";
      var lines = (buffer + text).replace(/\r\n?/g, "\n").split("\n");
      buffer = lines.pop();
      lines.forEach(function (line) {
        if (line === "") {
          if (data.length) events.push({ event: name || "message", data: data.join("\n") });
          name = "";
          data = [];
          return;
        }
        if (line[0] === ":") return;
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      });
      return events;
    }
  };
}

function bytesOf(base64) {
  var raw = atob(base64), bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// Starts a streamed call. handlers: onOpen(callId) once the portal has recorded the call (its
// X-Call-Id, for a link that holds also after stop()), onHead({status, headers}), onData(text)
// with the text of each piece (bytes that are not UTF-8 read as U+FFFD), onCall(call),
// onRefused(status, detail) when the portal refused before sending (a JSON answer),
// onFailed(message) when the portal could not be reached or the stream broke. Returns
// {stop(), done}: stop() ends the call (the portal stops the upstream and records the call as
// stopped); done settles when it is over.
export function streamInvoke(url, payload, csrfToken, handlers) {
  var controller = new AbortController();
  var stopped = false;
  var body = Object.assign({}, payload, { stream: true });
  var done = fetch(url, {
    method: "POST",
    credentials: "same-origin",
    signal: controller.signal,
    headers: { "Content-Type": "application/json", "Accept": "text/event-stream",
               "X-CSRFToken": csrfToken },
    body: JSON.stringify(body)
  }).then(function (response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("text/event-stream") !== 0) {
      return response.text().then(function (raw) {
        var detail = null;
        try { detail = JSON.parse(raw).detail; } catch (e) { /* not JSON: the status says */ }
        if (handlers.onRefused) handlers.onRefused(response.status, detail);
      });
    }
    if (handlers.onOpen) handlers.onOpen(response.headers.get("X-Call-Id"));
    return readEvents(response.body, handlers);
  }).catch(function (error) {
    if (stopped) return;
    if (handlers.onFailed) handlers.onFailed(error && error.message);
  });
  return {
    done: done,
    stop: function () {
      stopped = true;
      controller.abort();
    }
  };
}

function readEvents(stream, handlers) {
  var reader = stream.getReader(), decoder = new TextDecoder();
  var pieces = new TextDecoder(), parser = eventParser(), sawCall = false;
  function dispatch(item) {
    var data;
    try { data = JSON.parse(item.data); } catch (e) { return; }
    // Valid JSON that is not an object (null, a number) is as unreadable as invalid JSON.
    if (!data || typeof data !== "object") return;
    if (item.event === "head" && handlers.onHead) handlers.onHead(data);
    if (item.event === "data" && handlers.onData) {
      handlers.onData(data.text !== undefined ? data.text :
                      pieces.decode(bytesOf(data.base64 || ""), { stream: true }));
    }
    if (item.event === "call") {
      sawCall = true;
      if (handlers.onCall) handlers.onCall(data);
    }
  }
  function next() {
    return reader.read().then(function (result) {
      if (result.done) {
        parser.feed(decoder.decode()).forEach(dispatch);
        if (!sawCall && handlers.onFailed) handlers.onFailed(null);
        return;
      }
      parser.feed(decoder.decode(result.value, { stream: true })).forEach(dispatch);
      return next();
    });
  }
  return next();
}

// The text of an OpenAI-shaped answer from its raw events: {content, reasoning, openai};
// openai is false when no event was an OpenAI chunk (show the raw answer then). Events that
// are not JSON are skipped, never thrown.
export function openaiAssembler() {
  var parser = eventParser(), content = "", reasoning = "", openai = false;
  function take(item) {
    if (item.data === "[DONE]") return;
    var chunk;
    try { chunk = JSON.parse(item.data); } catch (e) { return; }
    if (!chunk || !Array.isArray(chunk.choices)) return;
    openai = true;
    chunk.choices.forEach(function (choice) {
      if (!choice) return;
      if (typeof choice.text === "string") content += choice.text;
      var delta = choice.delta || {};
      if (typeof delta.content === "string") content += delta.content;
      if (typeof delta.reasoning_content === "string") reasoning += delta.reasoning_content;
    });
  }
  return {
    feed: function (text) {
      parser.feed(text).forEach(take);
      return { content: content, reasoning: reasoning, openai: openai };
    }
  };
}
