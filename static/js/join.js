/* The joining rule of services/endpoints.join_url, line for line: URL = base + path.
   tests/join_cases.json drives the tests of both, so the page shows the URL the server sends.
   joinUrl(base, path) returns {url} or {refused: code}; refusalText(code, path, messages)
   fills in the server's translated message for that code (see call_views.join_refusals). */
(function () {
  "use strict";

  var CONTROL = /[\x00-\x1f\x7f-\x9f\ud800-\udfff]/u;
  var DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
  // What stays literal is what requests' requote_uri keeps; "%" only before two hex digits.
  var UNSAFE = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,/:;=?@\[\]%]/gu;
  var encoder = new TextEncoder();

  function encode(text) {
    return text.replace(UNSAFE, function (match) {
      var out = "";
      encoder.encode(match).forEach(function (byte) {
        out += "%" + (byte < 16 ? "0" : "") + byte.toString(16).toUpperCase();
      });
      return out;
    });
  }

  function hasDotSegment(path) {
    return path.split("/").some(function (segment) { return DOT_SEGMENT.test(segment); });
  }

  function refusalOf(path) {
    if (CONTROL.test(path)) return "control";
    var head = path.split(/[/?]/)[0];
    if (path.indexOf("\\") !== -1) return "backslash";
    if (path.indexOf("#") !== -1) return "fragment";
    if (head.indexOf(":") !== -1) return "scheme";
    if (path.slice(0, 2) === "//") return "double_slash";
    if (head.indexOf("@") !== -1) return "user";
    if (hasDotSegment(path.split("?")[0])) return "dot_segment";
    return null;
  }

  function joinUrl(base, path) {
    base = base.replace(/\/+$/, "");
    if (!path) return { url: base };
    var refused = refusalOf(path);
    if (refused) return { refused: refused };
    if (path[0] !== "/" && path[0] !== "?") path = "/" + path;
    return { url: base + encode(path) };
  }

  function refusalText(code, path, messages) {
    var template = (messages && messages[code]) || code;
    return template.replace(/%\(path\)s/g, path);
  }

  window.EasJoin = { joinUrl: joinUrl, refusalText: refusalText };
})();
