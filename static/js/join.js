/* The joining rule of services/net/join.py join_url, line for line: URL = base + path.
   tests/unit/join_cases.json drives the tests of both, so the page shows the URL the server sends.
   joinUrl(base, path) returns {url} or {refused: code}; refusalText(code, path, messages)
   fills in the server's translated message for that code (services/net/join.py REFUSALS, sent
   by services/views/builder.py). */

var CONTROL = /[\x00-\x1f\x7f-\x9f\ud800-\udfff]/u;
var DOT_SEGMENT = /^(?:\.|%(?:25)*2e){1,2}$/i;
// What ends a segment for a server that decodes before it normalises: "/", and "/" or "\"
// percent-encoded (also twice: %252F). A segment's parameters (";..." on Tomcat and Spring,
// also encoded) are dropped before it is compared, so "..;x" is "..".
var SEPARATOR = /\/|%(?:25)*(?:2f|5c)/i;
var PARAMETERS = /;|%(?:25)*3b/i;
// Written as the portal's HTTP client puts a URL on the wire (see endpoints.py): anything
// but these characters is percent-encoded; an existing %XX is upper-cased, or decoded when it
// stands for a letter, digit or -._~.
var UNSAFE = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,/:;=?@%]/gu;
var ESCAPE = /%([0-9A-Fa-f]{2})/g;
var UNRESERVED = /^[A-Za-z0-9\-._~]$/;
var encoder = new TextEncoder();

function encode(text) {
  text = text.replace(UNSAFE, function (match) {
    var out = "";
    encoder.encode(match).forEach(function (byte) {
      out += "%" + (byte < 16 ? "0" : "") + byte.toString(16).toUpperCase();
    });
    return out;
  });
  return text.replace(ESCAPE, function (match, hex) {
    var char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : "%" + hex.toUpperCase();
  });
}

// A URL with no path at all is sent with "/": http://h?x=1 goes out as http://h/?x=1.
function withRoot(url) {
  var start = url.indexOf("://") + 3;
  var end = url.indexOf("?", start);
  var authority = end === -1 ? url.slice(start) : url.slice(start, end);
  if (authority.indexOf("/") !== -1) return url;
  return url.slice(0, start) + authority + "/" + (end === -1 ? "" : url.slice(end));
}

function hasDotSegment(path) {
  return path.split(SEPARATOR).some(function (segment) {
    return DOT_SEGMENT.test(segment.split(PARAMETERS)[0]);
  });
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

export function joinUrl(base, path) {
  base = base.replace(/\/+$/, "");
  if (!path) return { url: withRoot(base) };
  var refused = refusalOf(path);
  if (refused) return { refused: refused };
  if (path[0] !== "/" && path[0] !== "?") path = "/" + path;
  path = encode(path);
  // An empty query is not sent.
  if (path.slice(-1) === "?" && path.indexOf("?") === path.length - 1) path = path.slice(0, -1);
  return { url: withRoot(base + path) };
}

export function refusalText(code, path, messages) {
  var template = (messages && messages[code]) || code;
  return template.replace(/%\(path\)s/g, path);
}
