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
