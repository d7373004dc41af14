"""IP addresses: reading them in any spelling, and the ones that are always refused.

Pure (standard library only). Browsers and resolvers read "127.1", "2130706433" and "0x7f.1"
as 127.0.0.1, so every policy decision looks at what a host means, not how it is spelled.
"""

import ipaddress
import re
from ipaddress import IPv4Address, IPv6Address

from services.net.errors import EndpointError, gettext_noop

Address = IPv4Address | IPv6Address

_DIGITS = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
DECIMAL = re.compile(r"[0-9]+")


def _ipv4_number(part: str) -> int | None:
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


def _parse_ipv6(host: str, text: str) -> IPv6Address:
    if "%" in text:
        raise EndpointError(gettext_noop("%(host)s carries an IPv6 zone id, which is not "
                                         "allowed."), host=host)
    try:
        return IPv6Address(text)
    except ValueError:
        raise EndpointError(gettext_noop("%(host)s is not a valid IPv6 address."),
                            host=host) from None


def parse_ip(host: str) -> Address | None:
    """The address a host means, or None when it is a name."""
    if host.startswith("[") and host.endswith("]"):
        return _parse_ipv6(host, host[1:-1])
    if ":" in host:
        return _parse_ipv6(host, host)
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    last = labels[-1]
    if not DECIMAL.fullmatch(last) and _ipv4_number(last) is None:
        return None
    numbers = [_ipv4_number(label) for label in labels]
    if len(numbers) > 4 or any(number is None for number in numbers):
        raise _broken_ipv4(host)
    *front, tail = [number for number in numbers if number is not None]
    if any(n > 255 for n in front) or tail >= 256 ** (5 - len(numbers)):
        raise _broken_ipv4(host)
    return IPv4Address(sum(n << (8 * (3 - i)) for i, n in enumerate(front)) + tail)


def _broken_ipv4(host: str) -> EndpointError:
    return EndpointError(gettext_noop("%(host)s looks like an IPv4 address but is not a valid "
                                      "one."), host=host)


def as_address(ip: Address | str) -> Address:
    if isinstance(ip, IPv4Address | IPv6Address):
        return ip
    address = parse_ip(str(ip))
    if address is None:
        raise EndpointError(gettext_noop("%(address)s is not an IP address."), address=str(ip))
    return address


# NAT64 (well-known and local-use) and SIIT's IPv4-translated ::ffff:0:a.b.c.d: last 32 bits.
_LAST_32_BITS = [
    ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96")
]


def embedded_ipv4(ip: Address) -> IPv4Address | None:
    """The IPv4 host an IPv6 address reaches, if any: whatever that host may not be, the IPv6
    form may not be either."""
    if not isinstance(ip, IPv6Address):
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
    gettext_noop("%(address)s is a link-local address, where cloud metadata services answer; "
                 "it is always refused."),
    gettext_noop("%(host)s resolves to %(address)s, a link-local address where cloud metadata "
                 "services answer; it is always refused."),
)
_METADATA = (
    gettext_noop("%(address)s is a cloud metadata service address; it is always refused."),
    gettext_noop("%(host)s resolves to %(address)s, a cloud metadata service address; "
                 "it is always refused."),
)
_NO_HOST = (
    gettext_noop("%(address)s is an unspecified address, which reaches the portal's own "
                 "machine on many systems; it is always refused."),
    gettext_noop("%(host)s resolves to %(address)s, an unspecified address, which reaches the "
                 "portal's own machine on many systems; it is always refused."),
)
_BROADCAST = (
    gettext_noop("%(address)s is a broadcast or multicast address; it is always refused."),
    gettext_noop("%(host)s resolves to %(address)s, a broadcast or multicast address; "
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


def refusal_reasons(ip: Address) -> tuple[str, str] | None:
    """(reason on save, reason at send time) when the address is always refused, else None."""
    for candidate in (ip, embedded_ipv4(ip)):
        for network, reasons in _REFUSED:
            if candidate is not None and candidate in network:
                return reasons
    return None


def refused_reason(ip: Address | str) -> str | None:
    reasons = refusal_reasons(as_address(ip))
    return reasons[0] if reasons else None


def is_loopback(ip: Address | str) -> bool:
    ip = as_address(ip)
    embedded = embedded_ipv4(ip)
    return ip.is_loopback or (embedded is not None and embedded.is_loopback)
