/* The snippet panel (templates/services/snippet_panel/snippet_panel.html): a tab per target, the
   token mode, Copy and Download.
   On a call's page the env and placeholder snippets come with the page; the API is asked only
   for the real token (each one handed out is recorded, so each is fetched once, and by POST
   with the X-CSRFToken header: the API refuses it to a GET, which another site could forge),
   for the personal key (key mode: the portal's gateway, at the address this page was loaded
   from) and for snippets a page with a large body leaves out. On the builder, the API makes
   the snippet of the form as it stands (read through payload() of static/js/builder.js), 300 ms
   after the last edit; with the real token it waits for the user to ask again. */
import { render as highlight } from "./highlight.js";
import { byId, copyText, csrfToken, format, parseJsonOrNull, readJson } from "./util.js";

// Only a page with the panel runs start(): a module's top level cannot return early.
// builder is static/js/builder.js on the builder's page, else null.
function start(panel, builder) {
  var DEBOUNCE_MS = 300, MAX_CACHED = 40;
  var config = readJson("snippet-config");
  var text = config.text;
  var builderForm = builder ? byId("builder-form") : null;

  var pre = byId("snippet-body"), code = pre.querySelector("code"), reasonBox = byId("snippet-reason");
  var copyButton = byId("snippet-copy"), downloadButton = byId("snippet-download");
  var refreshButton = byId("snippet-refresh"), state = byId("snippet-state");
  var tabs = Array.prototype.slice.call(panel.querySelectorAll(".snippet-tab"));
  var modeNotes = panel.querySelectorAll("[data-mode-note]");

  function tabFor(target) {
    return tabs.filter(function (tab) { return tab.getAttribute("data-target") === target; })[0];
  }

  var selected = tabs.filter(function (tab) {
    return tab.getAttribute("aria-selected") === "true";
  })[0] || tabs[0];
  var current = { target: selected.getAttribute("data-target"), mode: "env", text: null };
  // key -> {text} or {error, unavailable}: a snippet, or why there is none.
  var cache = new Map(), generation = 0, timer = null;

  // A call's page: what the server rendered.
  if (!builderForm) {
    panel.querySelectorAll("template[data-snippet-text]").forEach(function (template) {
      cache.set(template.getAttribute("data-target") + "|" + template.getAttribute("data-mode"),
                { text: template.content.textContent });
    });
    if (!pre.hidden) {
      current.text = code.textContent;
      cache.set(current.target + "|env", { text: current.text });
    }
  }

  function show(entry) {
    var tab = tabFor(current.target);
    state.textContent = "";
    refreshButton.hidden = true;
    if (entry.text !== undefined) {
      current.text = entry.text;
      highlight(code, entry.text, tab.getAttribute("data-language"));
    } else {
      current.text = null;
      reasonBox.textContent = entry.error;
    }
    pre.hidden = current.text === null;
    reasonBox.hidden = current.text !== null;
    copyButton.disabled = downloadButton.disabled = current.text === null;
  }

  // On the builder a target's availability follows the form: mark the tab as the API answers.
  // A marked tab stays clickable: picking it shows why there is no snippet.
  function mark(tab, reason) {
    tab.classList.toggle("unavailable", !!reason);
    if (reason) {
      tab.title = reason;
    } else {
      tab.removeAttribute("title");
    }
  }

  function request() {
    if (!builderForm) {
      var key = current.target + "|" + current.mode;
      if (current.mode === "real") {
        return { key: key, url: config.url,
                 init: { method: "POST",
                         body: JSON.stringify({ lang: current.target, token: current.mode }),
                         headers: { "Content-Type": "application/json",
                                    "X-CSRFToken": csrfToken() } } };
      }
      return { key: key,
               url: config.url + "?lang=" + encodeURIComponent(current.target) +
                    "&token=" + encodeURIComponent(current.mode),
               init: { method: "GET" } };
    }
    var payload = builder.payload();  // throws with a message for the user
    payload.service = config.service;
    payload.lang = current.target;
    payload.token = current.mode;
    var body = JSON.stringify(payload);
    return { key: body, url: config.url,
             init: { method: "POST", body: body,
                     headers: { "Content-Type": "application/json",
                                "X-CSRFToken": builder.csrfToken() } } };
  }

  function answer(response, raw) {
    if (response.ok) return { text: raw };
    var data = parseJsonOrNull(raw);  // null if not JSON: reported by status below
    if (data && typeof data.detail === "string") {
      return { error: data.detail, unavailable: !!data.unavailable };
    }
    return { error: response.status === 401 ? text.loggedOut :
                      format(text.httpError, { status: response.status }) };
  }

  // explicit: the user picked a tab or a mode; an edit of the form is not, and does not export
  // the real token again by itself.
  function update(explicit) {
    var wanted;
    try {
      wanted = request();
    } catch (error) {
      show({ error: error.message });
      return;
    }
    var tab = tabFor(current.target);
    // The page's reasons are the endpoint's; through the gateway (key mode) the API says.
    if (!builderForm && current.mode !== "key" && tab.getAttribute("data-reason")) {
      show({ error: tab.getAttribute("data-reason") });
      return;
    }
    var known = cache.get(wanted.key);
    if (known) {
      if (builderForm) mark(tab, known.unavailable ? known.error : "");
      show(known);
      return;
    }
    if (current.mode === "real" && !explicit) {
      state.textContent = text.realStale;
      refreshButton.hidden = false;
      return;
    }
    var mine = ++generation;
    state.textContent = text.loading;
    var init = wanted.init;
    init.credentials = "same-origin";
    init.headers = Object.assign({ "Accept": "text/plain" }, init.headers);
    fetch(wanted.url, init).then(function (response) {
      return response.text().then(function (raw) {
        if (mine !== generation) return;  // a newer request is on its way
        var entry = answer(response, raw);
        if (response.ok || entry.unavailable) {
          if (cache.size >= MAX_CACHED) cache.clear();
          cache.set(wanted.key, entry);
        }
        if (builderForm && (response.ok || entry.unavailable)) {
          mark(tab, entry.unavailable ? entry.error : "");
        }
        show(entry);
      });
    }).catch(function () {
      if (mine === generation) show({ error: text.unreachable });
    });
  }

  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () {
      tabs.forEach(function (other) {
        other.setAttribute("aria-selected", other === tab ? "true" : "false");
      });
      current.target = tab.getAttribute("data-target");
      update(true);
    });
  });
  panel.querySelectorAll("input[name=snippet-token]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      current.mode = radio.value;
      modeNotes.forEach(function (note) {
        note.hidden = note.getAttribute("data-mode-note") !== current.mode;
      });
      update(true);
    });
  });
  refreshButton.addEventListener("click", function () { update(true); });

  copyButton.addEventListener("click", function () {
    if (current.text === null) return;
    copyText(current.text, copyButton).then(function (ok) {
      state.textContent = ok ? text.copied : text.copyFailed;
    });
  });

  downloadButton.addEventListener("click", function () {
    if (current.text === null) return;
    var blob = new Blob([current.text], { type: "text/plain;charset=utf-8" });
    var url = URL.createObjectURL(blob), link = document.createElement("a");
    link.href = url;
    link.download = tabFor(current.target).getAttribute("data-filename");
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    // The download has started by then; the URL would otherwise hold the text until unload.
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });

  if (builderForm) {
    var schedule = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { update(false); }, DEBOUNCE_MS);
    };
    // Presets and the header buttons change the form without an input event: clicks count too.
    ["input", "change", "click"].forEach(function (type) {
      builderForm.addEventListener(type, schedule);
    });
    update(true);
  } else if (current.text !== null) {
    show({ text: current.text });
  }
}

var panel = byId("snippet-panel");
if (panel) {
  // A call's page has no form to read: it never loads the builder's modules.
  start(panel, panel.getAttribute("data-source") === "builder" ?
    await import("./builder.js") : null);
}
