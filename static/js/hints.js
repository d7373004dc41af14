/* Which hint fits a call, and showing it: the texts are in
   templates/services/includes/call_hints.html, one element per cause (data-hint). */

var BY_STATUS = { 404: "404", 401: "auth", 403: "auth", 413: "413",
                  502: "gateway", 503: "gateway", 504: "gateway" };
// A call that failed carries services/net/client.py's error kind, a word whatever the language.
export function keyFor(status, error, errorKind) {
  if (error) return !errorKind || errorKind === "connection" ? "broken" : errorKind;
  return BY_STATUS[status] || null;
}

// Shows the hint that fits the call in container (a [data-hints] element); returns its key.
export function show(container, call) {
  var key = keyFor(call.status, call.error, call.error_kind);
  container.querySelectorAll("[data-hint]").forEach(function (hint) {
    hint.hidden = hint.getAttribute("data-hint") !== key;
  });
  container.querySelectorAll("[data-hint-url]").forEach(function (code) {
    code.textContent = call.url || "";
  });
  return key;
}

// A call's detail page carries the call on the element itself.
document.querySelectorAll("[data-hints][data-url]").forEach(function (container) {
  var status = parseInt(container.getAttribute("data-status"), 10);
  show(container, {
    status: isNaN(status) ? null : status,
    error: container.getAttribute("data-error"),
    error_kind: container.getAttribute("data-error-kind"),
    url: container.getAttribute("data-url")
  });
});
