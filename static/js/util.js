/* Helpers more than one of the modules here needs, kept once. */

export function byId(id) {
  return document.getElementById(id);
}

// The server translates the page's texts and leaves Python's %(name)s holes for the values
// only the page knows: format("%(size)s bytes", {size: 3}) is "3 bytes".
export function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
}

// The value a page hands its script with Django's json_script filter (no inline script: CSP).
export function readJson(id) {
  return JSON.parse(byId(id).textContent);
}

// An API answer's body as JSON, or null when it is not JSON (a proxy's HTML error page, say):
// the callers then report the HTTP status instead.
export function parseJsonOrNull(raw) {
  try {
    return JSON.parse(raw);
  } catch (e) {
    return null;
  }
}

// Puts text on the clipboard and resolves to whether that worked. The clipboard API exists only
// in secure contexts (https, localhost); on plain http a selected textarea and the copy command
// still work. The textarea takes the focus while selected: it goes back to focusAfter.
export function copyText(text, focusAfter) {
  function throughTextarea() {
    var area = document.createElement("textarea"), copied = false;
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.append(area);
    area.select();
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    area.remove();
    if (focusAfter) focusAfter.focus();
    return copied;
  }
  if (navigator.clipboard && navigator.clipboard.writeText) {
    return navigator.clipboard.writeText(text).then(function () { return true; }, throughTextarea);
  }
  return Promise.resolve(throughTextarea());
}

// The value for the X-CSRFToken header: the csrftoken cookie, or a page's {% csrf_token %} field.
export function csrfToken() {
  var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  var field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

// A request to the portal's JSON API with the session: resolves to {status, data}, data being
// the answer as JSON or null (no body, or not JSON); rejects when the portal was not reached.
export function sendJson(method, url, body) {
  var headers = { "Accept": "application/json", "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, {
    method: method,
    credentials: "same-origin",
    headers: headers,
    body: body === undefined ? undefined : JSON.stringify(body)
  }).then(function (response) {
    return response.text().then(function (raw) {
      return { status: response.status, data: raw ? parseJsonOrNull(raw) : null };
    });
  });
}

// What to tell the user of an API answer that is not a success: its detail when it has one,
// else the page's texts: loggedOut for a 401, httpError (%(status)s) for the rest.
export function refusalOf(answer, text) {
  var detail = answer.data && answer.data.detail;
  if (detail) return typeof detail === "string" ? detail : JSON.stringify(detail);
  if (answer.status === 401) return text.loggedOut;
  return format(text.httpError, { status: answer.status });
}

// uPlot (static/vendor/uplot/), once its script has loaded: a classic script that defines the
// global uPlot, added on first use from the hashed URL the page names in
// <link rel="preload" id="uplot-script">. A failed load may be tried again.
var uPlotLoading = null;
export function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!uPlotLoading) {
    uPlotLoading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = byId("uplot-script").href;
      script.onload = function () { resolve(window.uPlot); };
      script.onerror = function () {
        uPlotLoading = null;
        reject(new Error("uPlot did not load"));
      };
      document.head.append(script);
    });
  }
  return uPlotLoading;
}
