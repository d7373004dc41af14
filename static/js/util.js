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
