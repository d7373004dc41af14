"""curl's command-line options, as the curl import treats each one (services/curl/).
Pure: no Django.

Every option is one of:
- understood: it makes the request (method, URL, headers, body), and the import does what curl
  does with it (services/curl/command.py);
- ignored: it changes what curl prints or how it waits, retries or saves, never the request;
- ignored with a note: it changes how the request travels (redirects, TLS, a proxy, the HTTP
  version, credentials from a file) in a way the portal does its own way, which the note says;
- refused: it changes the request in a way the import does not rebuild (a multipart form, a
  file to upload, a config file, a second request ...), or it asks curl for no request at all.
An option not listed is refused as unknown.
"""

from dataclasses import dataclass

from services.curl.messages import gettext_noop as _


@dataclass(frozen=True)
class Option:
    name: str  # the long name, without --
    letter: str  # the short name, or ""
    takes_value: bool
    action: str  # an understood option's own name; "ignore"; "note:<key>"; "refuse"


# name, letter ("-": none), takes a value ("=") or not ("."), action.
_TABLE = """
request X = method
header H = header
data d = data
data-ascii - = data
data-raw - = data
data-binary - = data
data-urlencode - = data
json - = data
url - = url
user u = user
oauth2-bearer - = bearer
user-agent A = user-agent
referer e = referer
cookie b = cookie
get G . get
head I . head
globoff g . globoff
path-as-is - . path-as-is

silent s . ignore
show-error S . ignore
verbose v . ignore
include i . ignore
show-headers - . ignore
buffer N . ignore
compressed - . ignore
fail f . ignore
fail-with-body - . ignore
fail-early - . ignore
progress-bar # . ignore
progress-meter - . ignore
disable q . ignore
styled-output - . ignore
trace-time - . ignore
trace-ids - . ignore
create-dirs - . ignore
remove-on-error - . ignore
remote-time R . ignore
remote-name O . ignore
remote-name-all - . ignore
remote-header-name J . ignore
skip-existing - . ignore
clobber - . ignore
xattr - . ignore
out-null - . ignore
tcp-nodelay - . ignore
tcp-fastopen - . ignore
keepalive - . ignore
sessionid - . ignore
mptcp - . ignore
parallel Z . ignore
parallel-immediate - . ignore
retry-connrefused - . ignore
retry-all-errors - . ignore
ipv4 4 . ignore
ipv6 6 . ignore
http1.1 - . ignore
raw - . ignore
post301 - . ignore
post302 - . ignore
post303 - . ignore
basic - . ignore
digest - . ignore
ntlm - . ignore
negotiate - . ignore
anyauth - . ignore
suppress-connect-headers - . ignore
ignore-content-length - . ignore
max-time m = ignore
connect-timeout - = ignore
output o = ignore
output-dir - = ignore
write-out w = ignore
dump-header D = ignore
stderr - = ignore
trace - = ignore
trace-ascii - = ignore
trace-config - = ignore
libcurl - = ignore
retry - = ignore
retry-delay - = ignore
retry-max-time - = ignore
limit-rate - = ignore
max-filesize - = ignore
speed-limit Y = ignore
speed-time y = ignore
expect100-timeout - = ignore
keepalive-time - = ignore
keepalive-cnt - = ignore
cookie-jar c = ignore
create-file-mode - = ignore
rate - = ignore
parallel-max - = ignore
parallel-max-host - = ignore
happy-eyeballs-timeout-ms - = ignore
max-redirs - = ignore
etag-save - = ignore

location L . note:redirects
location-trusted - . note:redirects
insecure k . note:tls
cacert - = note:tls
capath - = note:tls
crlfile - = note:tls
pinnedpubkey - = note:tls
cert E = note:client-cert
key - = note:client-cert
cert-type - = note:client-cert
key-type - = note:client-cert
pass - = note:client-cert
proxy x = note:proxy
proxy-user U = note:proxy
proxy-header - = note:proxy
proxytunnel p . note:proxy
preproxy - = note:proxy
socks4 - = note:proxy
socks4a - = note:proxy
socks5 - = note:proxy
socks5-hostname - = note:proxy
noproxy - = note:proxy
resolve - = note:address
connect-to - = note:address
interface - = note:address
local-port - = note:address
dns-servers - = note:address
http1.0 0 . note:http-version
http2 - . note:http-version
http2-prior-knowledge - . note:http-version
http3 - . note:http-version
http3-only - . note:http-version
netrc n . note:netrc
netrc-file - = note:netrc
netrc-optional - . note:netrc

form F = refuse
form-string - = refuse
config K = refuse
upload-file T = refuse
range r = refuse
continue-at C = refuse
time-cond z = refuse
aws-sigv4 - = refuse
request-target - = refuse
url-query - = refuse
variable - = refuse
next : . refuse
crlf - . refuse
use-ascii B . refuse
tr-encoding - . refuse
unix-socket - = refuse
abstract-unix-socket - = refuse
etag-compare - = refuse
haproxy-protocol - . refuse
haproxy-clientip - = refuse
append a . refuse
list-only l . refuse
quote Q = refuse
telnet-option t = refuse
help h . refuse
version V . refuse
manual M . refuse
"""


def _options() -> dict[str, Option]:
    found = {}
    for line in _TABLE.strip().splitlines():
        if line:
            name, letter, value, action = line.split()
            found[name] = Option(name, "" if letter == "-" else letter, value == "=", action)
    return found


LONG = _options()
SHORT = {option.letter: option for option in LONG.values() if option.letter}

# Why an option is ignored, by the key of its "note:" action.
NOTES = {
    "redirects": _("%(option)s follows redirects; the portal does not, it shows the redirect "
                   "itself."),
    "tls": _("%(option)s changes how curl checks the server's certificate; the portal always "
             "checks it against the system's trusted authorities."),
    "client-cert": _("%(option)s gives curl a client certificate; the portal presents none."),
    "proxy": _("%(option)s sends the request through a proxy; the portal connects to the "
               "service's endpoint directly."),
    "address": _("%(option)s chooses where or from where curl connects; the portal connects "
                 "to the service's endpoint as its host resolves."),
    "http-version": _("%(option)s chooses the HTTP version; the portal speaks HTTP/1.1."),
    "netrc": _("%(option)s reads a user and password from a .netrc file; the portal sends the "
               "service's token instead."),
}
