"""Endpoints: parse one, check it against the host policy, classify EAS hosts.

Pure (standard library only): no Django, no network. An endpoint is checked on save without
resolving it (a VPC host resolves only inside its VPC); services/net/client.py checks every
address it resolves to again at send time. Every error and warning carries a %(name)s template
and its params, so the Django layer can translate, then format.
"""

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.net.addresses import (
    DECIMAL,
    Address,
    as_address,
    embedded_ipv4,
    is_loopback,
    parse_ip,
    refusal_reasons,
)
from services.net.errors import EndpointError, gettext_noop
from services.net.join import encode, has_dot_segment

_ = gettext_noop


@dataclass(frozen=True)
class EndpointWarning:
    message: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
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
    address: Address | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"

    @property
    def eas(self) -> "EasHost | None":
        return classify_eas_host(self.host)


_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_AUTHORITY = re.compile(r"(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>.*))?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_EAS_HOST = re.compile(
    r"(?P<uid>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.(?:(?P<vpc>vpc)\.)?"
    r"(?P<region>[a-z]{2}(?:-[a-z0-9]+)+)\.pai-eas\.aliyuncs\.com"
)
_SERVICE_PATH = re.compile(r"/api/predict/(?P<name>[^/?#]+)(?:/.*)?", re.DOTALL)


def _is_localhost_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _parse_host(text: str) -> tuple[str, Address | None]:
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


def parse_endpoint(text: str) -> Endpoint:
    text = text.strip()

    def refused(message: str) -> EndpointError:
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
    if port is not None and not (DECIMAL.fullmatch(port) and 1 <= int(port) <= 65535):
        raise refused(_("The port in %(endpoint)s must be a number from 1 to 65535."))
    host, address = _parse_host(parts["host"])
    if port is not None:
        port = None if (scheme, int(port)) in (("http", 80), ("https", 443)) else int(port)
    path = (slash + path).rstrip("/")
    if has_dot_segment(path):
        raise refused(_("The endpoint %(endpoint)s has a . or .. segment in its path; "
                        "remove it."))
    return Endpoint(scheme, host, port, encode(path), address)


class HostPolicy:
    """EASPORTAL_ALLOWED_ENDPOINT_HOSTS: which endpoint hosts and addresses may be called."""

    def __init__(self, patterns: str | Iterable[str]) -> None:
        if isinstance(patterns, str):
            patterns = patterns.split(",")
        self.patterns = tuple(p.strip() for p in patterns if p.strip())
        self._names: set[str] = set()
        self._suffixes: list[str] = []
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for pattern in self.patterns:
            self._add(pattern)

    def _add(self, pattern: str) -> None:
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

    def _name_allowed(self, host: str) -> bool:
        return host in self._names or host.endswith(tuple(self._suffixes))

    def _covers(self, ip: Address) -> bool:
        embedded = embedded_ipv4(ip)
        return any(ip in net or (embedded is not None and embedded in net)
                   for net in self._networks)

    def _not_allowed(self, host: str) -> EndpointError:
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
            reasons = refusal_reasons(address)
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

    def check_address(self, host: str, ip: Address | str) -> None:
        host = host.lower().removesuffix(".")
        ip = as_address(ip)
        reasons = refusal_reasons(ip)
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
    warnings: list[EndpointWarning] = []

    def warn(message: str, **params: object) -> None:
        warnings.append(EndpointWarning(message, params))

    public_eas = public.eas if public else None
    vpc_eas = vpc.eas if vpc else None
    if public and public_eas and public_eas.vpc:
        warn(_("The public endpoint %(host)s looks like a VPC address; "
               "it only resolves inside its VPC."), host=public.host)
    if vpc and vpc_eas and not vpc_eas.vpc:
        warn(_("The VPC endpoint %(host)s looks like a public address; "
               "a VPC address has .vpc. before the region."), host=vpc.host)
    for endpoint in (public, vpc):
        if endpoint and endpoint.eas and eas_service_name(endpoint.path) is None:
            warn(_("%(url)s has no /api/predict/<service> base path, "
                   "the usual cause of 404 Not Found later."), url=endpoint.url)
    if public and vpc and public_eas and vpc_eas:
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


