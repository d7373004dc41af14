"""Endpoints: parse, check against the host policy, classify, and join with a path.

Pure (standard library only): no Django, no network. Every error and warning carries a
%(name)s template and its params, so the Django layer can translate, then format.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address


def _(message):
    # Marks a template for xgettext; the Django layer translates it when showing it.
    return message


class EndpointError(ValueError):
    def __init__(self, message, **params):
        self.message = message
        self.params = params
        super().__init__(message % params)


class PathError(EndpointError):
    pass


@dataclass(frozen=True)
class EndpointWarning:
    message: str
    params: dict = field(default_factory=dict)

    def __str__(self):
        return self.message % self.params


@dataclass(frozen=True)
class EasHost:
    uid: str
    region: str
    vpc: bool


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int | None
    path: str
    address: IPv4Address | IPv6Address | None = None

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"

    @property
    def eas(self):
        return classify_eas_host(self.host)


# C1 controls too (U+0085 is a line break to some parsers), and lone surrogates (from "\ud800"
# in JSON), which cannot be encoded as UTF-8.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_AUTHORITY = re.compile(r"(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>.*))?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_DIGITS = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
_DECIMAL = re.compile(r"[0-9]+")
_DOT_SEGMENT = re.compile(r"(?:\.|%2e){1,2}", re.IGNORECASE)
_EAS_HOST = re.compile(
    r"(?P<uid>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.(?:(?P<vpc>vpc)\.)?"
    r"(?P<region>[a-z]{2}(?:-[a-z0-9]+)+)\.pai-eas\.aliyuncs\.com"
)
_SERVICE_PATH = re.compile(r"/api/predict/(?P<name>[^/?#]+)(?:/.*)?", re.DOTALL)

# A joined URL is written the way the portal's HTTP client (requests on urllib3) puts it on
# the wire, so that the URL shown, the URL recorded and the URL sent are one: letters, digits
# and -._~!$&'()*+,/:;=?@ stay; anything else, "[" and "]" included, and a "%" without two hex
# digits after it, is percent-encoded as UTF-8; an existing %XX stays, in upper case, unless it
# stands for a letter, digit or -._~, which are equivalent unencoded (RFC 3986, 6.2.2). The
# builder's JavaScript (static/js/join.js) applies the same two expressions.
_UNSAFE = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,/:;=?@%]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _ipv4_number(part):
    # WHATWG "IPv4 number parser": 0x hex ("0x" alone is 0), 0-prefixed octal, else decimal.
    if not part:
        return None
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits:
        return 0
    return int(digits, base) if all(char in _DIGITS[base] for char in digits) else None


def _parse_ipv6(host, text):
    if "%" in text:
        raise EndpointError(_("%(host)s carries an IPv6 zone id, which is not allowed."), host=host)
    try:
        return IPv6Address(text)
    except ValueError:
        raise EndpointError(_("%(host)s is not a valid IPv6 address."), host=host) from None


def parse_ip(host: str) -> IPv4Address | IPv6Address | None:
    # Browsers and resolvers read "127.1", "2130706433" and "0x7f.1" as 127.0.0.1, so any
    # policy decision must see what the host means, not how it is spelled.
    if host.startswith("[") and host.endswith("]"):
        return _parse_ipv6(host, host[1:-1])
    if ":" in host:
        return _parse_ipv6(host, host)
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    last = labels[-1]
    if not _DECIMAL.fullmatch(last) and _ipv4_number(last) is None:
        return None
    numbers = [_ipv4_number(label) for label in labels]
    *front, tail = numbers
    if len(numbers) > 4 or None in numbers or any(n > 255 for n in front) or (
            tail >= 256 ** (5 - len(numbers))):
        raise EndpointError(_("%(host)s looks like an IPv4 address but is not a valid one."),
                            host=host)
    return IPv4Address(sum(n << (8 * (3 - i)) for i, n in enumerate(front)) + tail)


def _address(ip):
    if isinstance(ip, IPv4Address | IPv6Address):
        return ip
    address = parse_ip(str(ip))
    if address is None:
        raise EndpointError(_("%(address)s is not an IP address."), address=str(ip))
    return address


# NAT64 (well-known and local-use) and SIIT's IPv4-translated ::ffff:0:a.b.c.d: last 32 bits.
_LAST_32_BITS = [
    ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96")
]


def _embedded_ipv4(ip):
    # IPv6 addresses that reach an IPv4 host: whatever that host may not be, they may not be.
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    # IPv4-compatible ::a.b.c.d is deprecated but still accepted; :: and ::1 are not it.
    if (int(ip) >> 32 == 0 and int(ip) > 1) or any(ip in net for net in _LAST_32_BITS):
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


# Each reason twice: on save it names the address; at send time also the host that resolved.
_LINK_LOCAL = (
    _("%(address)s is a link-local address, where cloud metadata services answer; "
      "it is always refused."),
    _("%(host)s resolves to %(address)s, a link-local address where cloud metadata services "
      "answer; it is always refused."),
)
_METADATA = (
    _("%(address)s is a cloud metadata service address; it is always refused."),
    _("%(host)s resolves to %(address)s, a cloud metadata service address; "
      "it is always refused."),
)
_NO_HOST = (
    _("%(address)s is an unspecified address, which reaches the portal's own machine on many "
      "systems; it is always refused."),
    _("%(host)s resolves to %(address)s, an unspecified address, which reaches the portal's own "
      "machine on many systems; it is always refused."),
)
_BROADCAST = (
    _("%(address)s is a broadcast or multicast address; it is always refused."),
    _("%(host)s resolves to %(address)s, a broadcast or multicast address; "
      "it is always refused."),
)
_REFUSED = [
    (ipaddress.ip_network(network), reasons)
    for networks, reasons in (
        (("169.254.0.0/16", "fe80::/10"), _LINK_LOCAL),
        # ipaddress does not count Alibaba's 100.100.100.200 as private: name it.
        (("100.100.100.200/32", "fd00:ec2::254/128"), _METADATA),
        (("0.0.0.0/8", "::/128"), _NO_HOST),
        (("255.255.255.255/32", "224.0.0.0/4", "ff00::/8"), _BROADCAST),
    )
    for network in networks
]


def _refusal(ip):
    for candidate in (ip, _embedded_ipv4(ip)):
        for network, reasons in _REFUSED:
            if candidate is not None and candidate in network:
                return reasons
    return None


def refused_reason(ip) -> str | None:
    reasons = _refusal(_address(ip))
    return reasons[0] if reasons else None


def is_loopback(ip) -> bool:
    ip = _address(ip)
    embedded = _embedded_ipv4(ip)
    return ip.is_loopback or (embedded is not None and embedded.is_loopback)


def _is_localhost_name(host):
    return host == "localhost" or host.endswith(".localhost")


def _parse_host(text):
    """Return (canonical host, address or None); raise EndpointError for a bad host."""
    host = text
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise EndpointError(_("%(host)s is not a valid international host name."),
                                host=text) from None
    # After IDNA: full-width "１２７.０.０.１" has become 127.0.0.1.
    host = host.lower()
    address = parse_ip(host)
    if address is not None:
        return str(address), address
    host = host.removesuffix(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise EndpointError(_("%(host)s is not a valid host name."), host=text)
    return host, None


def _encode(text):
    text = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode("utf-8")), text)
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if chr(int(m[1], 16)) in _UNRESERVED
                       else f"%{m[1].upper()}", text)


def _has_dot_segment(path):
    # Clients and servers collapse "." and ".." (and %2e, which requests decodes first).
    return any(_DOT_SEGMENT.fullmatch(segment) for segment in path.split("/"))


def parse_endpoint(text: str) -> Endpoint:
    text = text.strip()

    def refused(message):
        return EndpointError(message, endpoint=text)

    if not text:
        raise EndpointError(_("Enter an endpoint that starts with http:// or https://."))
    if _SPACE_OR_CONTROL.search(text):
        raise EndpointError(_("An endpoint may not contain spaces or control characters."))
    if "\\" in text:
        raise refused(_("The endpoint %(endpoint)s contains a backslash; use / in URLs."))
    match = _SCHEME.match(text)
    if not match or not text.startswith("//", match.end()):
        raise refused(_("The endpoint %(endpoint)s must start with http:// or https://."))
    scheme = match.group(1).lower()
    if scheme not in ("http", "https"):
        raise refused(_("The endpoint %(endpoint)s is not an http or https URL."))
    rest = text[match.end() + 2 :]
    if "#" in rest:
        raise refused(_("The endpoint %(endpoint)s has a fragment (#...); remove it."))
    if "?" in rest:
        raise refused(_("The endpoint %(endpoint)s has a query (?...); an endpoint is a base "
                        "address, so put the query in the request path instead."))
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        raise refused(_("The endpoint %(endpoint)s contains a user name or password; "
                        "the token goes in its own field."))
    parts = _AUTHORITY.fullmatch(authority)
    if not parts:
        raise refused(_("The endpoint %(endpoint)s has a malformed host; write an IPv6 "
                        "address in brackets, as in http://[::1]:8000."))
    if not parts["host"]:
        raise refused(_("The endpoint %(endpoint)s has no host."))
    port = parts["port"]
    if port is not None and not (_DECIMAL.fullmatch(port) and 1 <= int(port) <= 65535):
        raise refused(_("The port in %(endpoint)s must be a number from 1 to 65535."))
    host, address = _parse_host(parts["host"])
    if port is not None:
        port = None if (scheme, int(port)) in (("http", 80), ("https", 443)) else int(port)
    path = (slash + path).rstrip("/")
    if _has_dot_segment(path):
        raise refused(_("The endpoint %(endpoint)s has a . or .. segment in its path; "
                        "remove it."))
    return Endpoint(scheme, host, port, _encode(path), address)


class HostPolicy:
    """EASPORTAL_ALLOWED_ENDPOINT_HOSTS: which endpoint hosts and addresses may be called."""

    def __init__(self, patterns):
        if isinstance(patterns, str):
            patterns = patterns.split(",")
        self.patterns = tuple(p.strip() for p in patterns if p.strip())
        self._names, self._suffixes, self._networks = set(), [], []
        for pattern in self.patterns:
            self._add(pattern)

    def _add(self, pattern):
        text = pattern.lower().removesuffix(".")
        try:
            if "/" in text:
                self._networks.append(ipaddress.ip_network(text, strict=False))
                return
            wildcard = text.startswith("*.")
            host, address = _parse_host(text[2:] if wildcard else text)
            if wildcard and address is not None:
                raise ValueError
        except ValueError:  # EndpointError is one too
            raise ValueError(
                f"EASPORTAL_ALLOWED_ENDPOINT_HOSTS: {pattern!r} is not a host name, a *.domain "
                "wildcard, an IP address or a CIDR network (such as 10.0.0.0/8)."
            ) from None
        if wildcard:
            self._suffixes.append("." + host)
        elif address is not None:
            self._networks.append(ipaddress.ip_network(address))
        else:
            self._names.add(host)

    def _name_allowed(self, host):
        return host in self._names or host.endswith(tuple(self._suffixes))

    def _covers(self, ip):
        embedded = _embedded_ipv4(ip)
        return any(ip in net or (embedded and embedded in net) for net in self._networks)

    def _not_allowed(self, host):
        if not self.patterns:
            return EndpointError(_("The host %(host)s is not allowed: "
                                   "EASPORTAL_ALLOWED_ENDPOINT_HOSTS is empty."), host=host)
        return EndpointError(_("The host %(host)s is not allowed by "
                               "EASPORTAL_ALLOWED_ENDPOINT_HOSTS (%(patterns)s)."),
                             host=host, patterns=", ".join(self.patterns))

    def check_endpoint(self, endpoint: Endpoint) -> None:
        host, address = endpoint.host, endpoint.address
        if address is None:  # an Endpoint built by hand rather than by parse_endpoint
            address = parse_ip(host)
        if address is not None:
            reasons = _refusal(address)
            if reasons:
                raise EndpointError(reasons[0], address=host)
            if self._covers(address):
                return
        elif self._name_allowed(host):
            return
        if _is_localhost_name(host) or (address is not None and is_loopback(address)):
            raise EndpointError(_("%(host)s is a loopback address, refused unless "
                                  "EASPORTAL_ALLOWED_ENDPOINT_HOSTS allows it explicitly."),
                                host=host)
        raise self._not_allowed(host)

    def check_address(self, host: str, ip) -> None:
        host = host.lower().removesuffix(".")
        ip = _address(ip)
        reasons = _refusal(ip)
        if reasons:
            raise EndpointError(reasons[1], host=host, address=str(ip))
        if not is_loopback(ip) or self._covers(ip):
            return
        # Only a localhost name allowed as such may reach loopback: a wildcard name that
        # resolves to 127.0.0.1 (DNS rebinding, a careless record) may not.
        if _is_localhost_name(host) and self._name_allowed(host):
            return
        raise EndpointError(_("%(host)s resolves to the loopback address %(address)s, refused "
                              "unless EASPORTAL_ALLOWED_ENDPOINT_HOSTS allows it explicitly."),
                            host=host, address=str(ip))


def classify_eas_host(host: str) -> EasHost | None:
    match = _EAS_HOST.fullmatch(host.lower().removesuffix("."))
    return EasHost(match["uid"], match["region"], bool(match["vpc"])) if match else None


def eas_service_name(path: str) -> str | None:
    match = _SERVICE_PATH.fullmatch(path)
    return match["name"] if match else None


def endpoint_warnings(public: Endpoint | None, vpc: Endpoint | None) -> list[EndpointWarning]:
    warnings = []

    def warn(message, **params):
        warnings.append(EndpointWarning(message, params))

    public_eas = public.eas if public else None
    vpc_eas = vpc.eas if vpc else None
    if public_eas and public_eas.vpc:
        warn(_("The public endpoint %(host)s looks like a VPC address; "
               "it only resolves inside its VPC."), host=public.host)
    if vpc_eas and not vpc_eas.vpc:
        warn(_("The VPC endpoint %(host)s looks like a public address; "
               "a VPC address has .vpc. before the region."), host=vpc.host)
    for endpoint, eas in ((public, public_eas), (vpc, vpc_eas)):
        if eas and eas_service_name(endpoint.path) is None:
            warn(_("%(url)s has no /api/predict/<service> base path, "
                   "the usual cause of 404 Not Found later."), url=endpoint.url)
    if public_eas and vpc_eas:
        if public_eas.region != vpc_eas.region:
            warn(_("The public endpoint is in region %(public)s but the VPC endpoint is in "
                   "%(vpc)s; both should reach the same service."),
                 public=public_eas.region, vpc=vpc_eas.region)
        public_name, vpc_name = eas_service_name(public.path), eas_service_name(vpc.path)
        if public_name and vpc_name and public_name != vpc_name:
            warn(_("The public endpoint calls service %(public)s but the VPC endpoint calls "
                   "%(vpc)s; both should reach the same service."),
                 public=public_name, vpc=vpc_name)
    return warnings


def region_of(public: Endpoint | None, vpc: Endpoint | None) -> str:
    return next((e.eas.region for e in (public, vpc) if e is not None and e.eas), "")


def join_url(base: str, path: str) -> str:
    # The same rule runs in the builder's JavaScript; tests/join_cases.json drives both.
    base = base.rstrip("/")
    if not path:
        return _with_root(base)

    def refused(message):
        return PathError(message, path=path)

    if _CONTROL.search(path):
        raise PathError(_("The path may not contain control characters such as tabs or "
                          "line breaks."))
    head = re.split(r"[/?]", path, maxsplit=1)[0]
    if "\\" in path:
        raise refused(_("The path %(path)s contains a backslash; use / instead."))
    if "#" in path:
        raise refused(_("The path %(path)s contains #, which starts a fragment that is never "
                        "sent to the server; percent-encode it if it belongs to the path."))
    if ":" in head:
        raise refused(_("The path %(path)s starts with a scheme; enter only what follows the "
                        "endpoint, such as /v1/chat/completions."))
    if path.startswith("//"):
        raise refused(_("The path %(path)s starts with //, which would name another host; "
                        "start it with a single /."))
    if "@" in head:
        raise refused(_("The path %(path)s has an @ before its first /, which would read as "
                        "a user name; start the path with /."))
    if _has_dot_segment(path.partition("?")[0]):
        raise refused(_("The path %(path)s contains a . or .. segment, which would leave the "
                        "endpoint; remove it."))
    if not path.startswith(("/", "?")):
        path = "/" + path
    path = _encode(path)
    if path.endswith("?") and path.count("?") == 1:
        path = path[:-1]  # an empty query is not sent
    return _with_root(base + path)


def _with_root(url):
    # A URL with no path at all is sent with "/": http://h?x=1 goes out as http://h/?x=1.
    scheme, separator, rest = url.partition("://")
    authority, query_mark, query = rest.partition("?")
    if not separator or "/" in authority:
        return url
    return f"{scheme}://{authority}/{query_mark}{query}"
