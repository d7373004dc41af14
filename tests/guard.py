"""The connection guard of tests/conftest.py: a test connects to this machine only. What the
guard raises instead of leaving it, and which addresses stay on it."""

import _socket
import errno
import ipaddress
import socket


class OutsideConnection(OSError):
    """What the guard raises instead of connecting to an address that is not loopback."""

    def __init__(self, address):
        super().__init__(errno.ENETUNREACH,
                         f"The test suite connects to loopback only, not to {address!r}.")


def is_loopback(family, address):
    """Whether a connect() to address, on a socket of family, stays on this machine: every
    family but IPv4 and IPv6 does (AF_UNIX), and of those 127.0.0.0/8, ::1 and
    ::ffff:127.0.0.0/104 do. A name is resolved as connect() would resolve it, and must have
    loopback addresses only; a name that does not resolve connects nowhere."""
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True
    host = address[0] if isinstance(address, tuple) and address else None
    if isinstance(host, bytes):
        host = host.decode("idna")
    if not isinstance(host, str):
        return False
    # What the socket module reads these two as, besides addresses and names.
    host = {"": "0.0.0.0", "<broadcast>": "255.255.255.255"}.get(host, host)
    try:
        ips = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            # The C function: tests replace socket.getaddrinfo, connect() does not use it.
            infos = _socket.getaddrinfo(host, address[1], family, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return True
        ips = [ipaddress.ip_address(info[4][0]) for info in infos]
    return all(_loopback_ip(ip) for ip in ips)


def _loopback_ip(ip):
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback
