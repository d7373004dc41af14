/* The chat playground of an LLM service (services/views/chat.py): a system prompt and the
   turns, each answered by one POST to /v1/chat/completions with the whole conversation so far,
   sent through the portal's invoke (static/js/stream.js), so that every turn is one Call in
   history. The model's text is only ever written as text, never as HTML. */
import { openaiAssembler, streamInvoke } from "./stream.js";
import { byId, format, parseJsonOrNull, readJson } from "./util.js";

// The messages a turn sends: the system prompt if there is one, then the turns. An answer that
// failed has no content and is left out; a stopped one is sent as far as it came.
export function conversation(system, turns) {
  var messages = system.trim() ? [{ role: "system", content: system }] : [];
  turns.forEach(function (turn) {
    if (turn.role === "user" || turn.content) {
      messages.push({ role: turn.role, content: turn.content });
    }
  });
  return messages;
}

// The figures of a recorded Call, each [name, text]; those the call does not have are left out.
export function figures(call, text) {
  var found = [];
  if (call.ttft_ms !== null && call.ttft_ms !== undefined) {
    found.push(["ttft", format(text.ttft, { ms: Math.round(call.ttft_ms) })]);
  }
  if (call.tpot_ms) {
    found.push(["rate", format(text.rate, { rate: (1000 / call.tpot_ms).toFixed(1) })]);
    found.push(["tpot", format(text.tpot, { ms: call.tpot_ms.toFixed(1) })]);
  }
  if (call.prompt_tokens !== null && call.prompt_tokens !== undefined) {
    found.push(["prompt", format(text.promptTokens, { count: call.prompt_tokens })]);
  }
  if (call.completion_tokens !== null && call.completion_tokens !== undefined) {
    var source = { usage: text.sourceUsage, chunks: text.sourceChunks }[call.tokens_source];
    found.push(["completion", source ?
      format(text.completionTokensFrom, { count: call.completion_tokens, source: source }) :
      format(text.completionTokens, { count: call.completion_tokens })]);
  }
  if (call.finish_reason) found.push(["finish", format(text.finish, { reason: call.finish_reason })]);
  found.push(["elapsed", format(text.elapsed, { ms: Math.round(call.elapsed_ms) })]);
  if (call.stopped) found.push(["stopped", text.stoppedFigure]);
  return found;
}

// The text of a chat completion that came whole: {content, reasoning}, or null if it is not one.
function wholeAnswer(body) {
  var data = parseJsonOrNull(body || "");
  var choice = data && Array.isArray(data.choices) ? data.choices[0] : null;
  if (!choice || !choice.message) return null;
  var message = choice.message;
  var reasoning = message.reasoning_content || message.reasoning;
  return { content: typeof message.content === "string" ? message.content : "",
           reasoning: typeof reasoning === "string" ? reasoning : "" };
}

var STOPPED_TRIES = 10, STOPPED_WAIT_MS = 300;

function start(settings) {
  var config = readJson("chat-config"), text = config.text;
  var turns = [], running = null;
  var list = byId("turns"), composer = byId("composer"), message = byId("message");
  var modelInput = byId("model"), modelList = byId("model-list"), modelNote = byId("model-note");
  var stopButton = byId("stop");

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) :
      settings.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function showError(error) {
    byId("chat-error").textContent = error;
    byId("chat-error").hidden = !error;
  }

  function refusal(status, detail) {
    if (typeof detail === "string" && detail) return detail;
    return status === 401 ? text.loggedOut : format(text.httpError, { status: status });
  }

  // A call that is not streamed: {status, data}, data the answer's JSON or null.
  function invoke(payload) {
    return fetch(config.invokeUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.text().then(function (raw) {
        return { status: response.status, data: parseJsonOrNull(raw) };
      });
    });
  }

  function listModels() {
    modelNote.textContent = text.listingModels;
    invoke({ method: "GET", path: config.modelsPath, body: "" }).then(function (answer) {
      var call = answer.data;
      if (answer.status !== 200 || !call || call.id === undefined) {
        throw new Error(refusal(answer.status, call && call.detail));
      }
      if (call.error) throw new Error(call.error);
      if (call.status !== 200) throw new Error(format(text.status, { status: call.status }));
      var listed = parseJsonOrNull(call.response_body || "");
      var ids = (listed && Array.isArray(listed.data) ? listed.data : []).map(function (model) {
        return model && model.id;
      }).filter(function (id) { return typeof id === "string" && id; });
      if (!ids.length) throw new Error(text.noModels);
      modelList.replaceChildren.apply(modelList, ids.map(function (id) {
        return new Option(id, id);
      }));
      modelList.hidden = false;
      modelInput.hidden = true;
      settings.querySelector("label[for=model]").htmlFor = "model-list";
      modelNote.textContent = text.modelsListed;
    }).catch(function (error) {
      var reason = error instanceof TypeError ? text.portalUnreachable : error.message;
      modelNote.textContent = format(text.modelsFailed, { reason: reason });
    });
  }

  // What a turn needs besides the conversation; throws an Error to show when it is not right.
  function prepare() {
    var model = (modelList.hidden ? modelInput.value : modelList.value).trim();
    if (!model) throw new Error(text.noModel);
    var body = { model: model };
    [["temperature", "temperature"], ["top-p", "top_p"], ["max-tokens", "max_tokens"]]
      .forEach(function (field) {
        var input = byId(field[0]);
        if (!input.validity.valid) {
          throw new Error(format(text.badParameter, {
            name: settings.querySelector("label[for=" + field[0] + "]").textContent.trim(),
            reason: input.validationMessage }));
        }
        if (input.value.trim() !== "") body[field[1]] = Number(input.value);
      });
    return { body: body, streaming: byId("stream").checked };
  }

  function addTurn(turn) {
    turn.node = byId(turn.role + "-turn-template").content.firstElementChild.cloneNode(true);
    turn.node.querySelector(".turn-text").textContent = turn.content;
    list.append(turn.node);
    turns.push(turn);
    byId("chat-empty").hidden = true;
    turn.node.scrollIntoView({ block: "nearest" });
    return turn;
  }

  function dropFrom(index) {
    turns.splice(index).forEach(function (turn) { turn.node.remove(); });
  }

  function setBusy(busy, streaming) {
    byId("send").disabled = busy;
    stopButton.hidden = !(busy && streaming);
    var last = turns.map(function (turn) { return turn.role; }).lastIndexOf("user");
    turns.forEach(function (turn, index) {
      turn.node.querySelectorAll("button").forEach(function (button) {
        button.disabled = busy;
      });
      var resend = turn.node.querySelector(".resend-turn");
      if (resend) resend.hidden = index !== last;
    });
  }

  function setState(turn, state) {
    turn.node.querySelector(".turn-state").textContent = state;
  }

  // The answer so far: content and reasoning of an OpenAI answer, else the raw text.
  function showAnswer(turn, content, reasoning, raw) {
    turn.content = content;
    turn.node.querySelector(".turn-text").textContent = content;
    turn.node.querySelector(".reasoning").hidden = !reasoning;
    turn.node.querySelector(".reasoning-text").textContent = reasoning;
    turn.node.querySelector(".turn-raw").textContent = raw || "";
    turn.node.querySelector(".turn-raw").hidden = !raw;
  }

  function failTurn(turn, error) {
    var box = turn.node.querySelector(".turn-error");
    box.textContent = error;
    box.hidden = !error;
  }

  function showLinks(turn, id) {
    turn.node.querySelector(".open-in-builder").href = config.builderUrl + "?call=" + id;
    turn.node.querySelector(".snippet-link").href = config.callsUrl + id + "/#snippet-panel";
    turn.node.querySelector(".turn-links").hidden = false;
    turn.node.dataset.callId = id;
  }

  function showCall(turn, call) {
    var items = figures(call, text), box = turn.node.querySelector(".figures");
    box.replaceChildren();
    items.forEach(function (item, index) {
      var span = document.createElement("span");
      span.dataset.figure = item[0];
      span.textContent = item[1];
      if (index) box.append(" · ");
      box.append(span);
    });
    box.hidden = false;
    showLinks(turn, call.id);
    if (call.error) {
      failTurn(turn, call.error);
    } else if (call.status < 200 || call.status > 299) {
      failTurn(turn, format(text.upstreamStatus, { status: call.status }));
    }
  }

  function streamTurn(turn, payload, done) {
    var assembler = openaiAssembler(), raw = "";
    running = streamInvoke(config.invokeUrl, payload, csrfToken(), {
      onOpen: function (callId) { turn.callId = callId; },
      onData: function (piece) {
        raw += piece;
        var answer = assembler.feed(piece);
        if (answer.openai) showAnswer(turn, answer.content, answer.reasoning, "");
        else showAnswer(turn, "", "", raw);
      },
      onCall: function (call) {
        setState(turn, "");
        showCall(turn, call);
      },
      onRefused: function (status, detail) {
        setState(turn, "");
        failTurn(turn, refusal(status, detail));
      },
      onFailed: function () {
        setState(turn, "");
        failTurn(turn, text.broken);
      }
    });
    running.done.then(done);
  }

  function wholeTurn(turn, payload, done) {
    running = null;
    invoke(payload).then(function (answer) {
      var call = answer.data;
      setState(turn, "");
      if (answer.status !== 200 || !call || call.id === undefined) {
        failTurn(turn, refusal(answer.status, call && call.detail));
        return;
      }
      var whole = wholeAnswer(call.response_body);
      if (whole) {
        showAnswer(turn, whole.content, whole.reasoning, "");
      } else {
        showAnswer(turn, "", "", call.response_body || "");
        if (call.status >= 200 && call.status <= 299 && !call.error) failTurn(turn, text.notChat);
      }
      showCall(turn, call);
    }).catch(function () {
      setState(turn, "");
      failTurn(turn, text.unreachable);
    }).then(done);
  }

  // Answers the conversation as it stands with a new assistant turn.
  function answer(prepared) {
    var body = Object.assign({}, prepared.body, {
      messages: conversation(byId("system").value, turns) });
    if (prepared.streaming) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    var payload = { method: "POST", path: config.chatPath, body: JSON.stringify(body) };
    var turn = addTurn({ role: "assistant", content: "" });
    setState(turn, prepared.streaming ? text.answering : text.waiting);
    setBusy(true, prepared.streaming);
    var done = function () {
      running = null;
      setBusy(false);
    };
    if (prepared.streaming) streamTurn(turn, payload, done);
    else wholeTurn(turn, payload, done);
  }

  // Runs change() and answers, unless a turn is being answered or the settings are not right
  // (then it changes nothing).
  function send(change) {
    if (byId("send").disabled) return;
    showError("");
    var prepared;
    try {
      prepared = prepare();
    } catch (error) {
      showError(error.message);
      return;
    }
    change();
    answer(prepared);
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var content = message.value;
    if (!content.trim()) {
      showError(text.emptyMessage);
      return;
    }
    send(function () {
      addTurn({ role: "user", content: content });
      message.value = "";
    });
  });
  message.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !byId("send").disabled) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  stopButton.addEventListener("click", function () {
    if (!running) return;
    var turn = turns[turns.length - 1];
    running.stop();
    setState(turn, text.stopped);
    if (turn.callId) {
      showLinks(turn, turn.callId);
      stoppedFigures(turn, turn.callId, STOPPED_TRIES);
    } else {  // stopped before the portal answered: the call is in the history, if anywhere
      turn.node.querySelector(".history-link").href = config.historyUrl;
      turn.node.querySelector(".turn-history").hidden = false;
    }
  });

  // The portal completes a stopped call's record once it notices: ask for it a few times.
  function stoppedFigures(turn, id, tries) {
    fetch(config.apiCallsUrl + id, { credentials: "same-origin",
                                     headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (call) {
        if (call && call.stopped) showCall(turn, call);
        else if (tries > 1) setTimeout(stoppedFigures, STOPPED_WAIT_MS, turn, id, tries - 1);
      })
      .catch(function () { /* the links are there; the figures are a bonus */ });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button"), node = event.target.closest(".turn");
    var turn = turns.find(function (each) { return each.node === node; });
    if (!button || !turn) return;
    var editor = node.querySelector(".turn-edit"), textBox = node.querySelector(".turn-text");
    var index = turns.indexOf(turn);
    if (button.classList.contains("edit-turn")) {
      editor.querySelector("textarea").value = turn.content;
      editor.hidden = false;
      textBox.hidden = true;
      editor.querySelector("textarea").focus();
    } else if (button.classList.contains("cancel-edit")) {
      editor.hidden = true;
      textBox.hidden = false;
    } else if (button.classList.contains("save-turn")) {
      var content = editor.querySelector("textarea").value;
      if (!content.trim()) {
        showError(text.emptyMessage);
        return;
      }
      send(function () {
        dropFrom(index);
        addTurn({ role: "user", content: content });
      });
    } else if (button.classList.contains("resend-turn")) {
      send(function () { dropFrom(index + 1); });
    }
  });

  listModels();
}

// Only the playground's page runs start(): a module's top level cannot return early.
var settingsForm = byId("chat-settings");
if (settingsForm) start(settingsForm);
