"""The host policy: which endpoint hosts and resolved addresses a call may go to."""

from ipaddress import IPv4Address, ip_address

import pytest

from services.net import endpoints
from services.net.addresses import is_loopback, parse_ip
from services.net.endpoints import HostPolicy, parse_endpoint
from services.net.errors import EndpointError
from tests.helpers import DEFAULT, EAS, address_allowed, allowed, assert_readable

LOOPBACK_FORMS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1",
    "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
]


@pytest.mark.parametrize(
    "host",
    [*LOOPBACK_FORMS, "[::1]", "localhost", "LOCALHOST.", "a.localhost", "ｌｏｃａｌｈｏｓｔ"],
)
def test_it_refuses_loopback_under_the_default_policy(host):
    with pytest.raises(EndpointError) as caught:
        DEFAULT.check_endpoint(parse_endpoint(f"http://{host}:8001/api/predict/s"))
    assert "loopback" in str(caught.value)
    assert_readable(caught.value)


@pytest.mark.parametrize("host", LOOPBACK_FORMS)
@pytest.mark.parametrize("patterns", ["127.0.0.1,::1,localhost", "127.0.0.0/8"])
def test_it_allows_loopback_addresses_that_a_pattern_covers(patterns, host):
    assert is_loopback(parse_ip(host))
    assert allowed(HostPolicy(patterns), f"http://{host}:8001/api/predict/s")


@pytest.mark.parametrize(
    "patterns, host, expected",
    [
        ("127.0.0.1,::1,localhost", "[::1]", True),
        ("127.0.0.1,::1,localhost", "localhost", True),
        ("127.0.0.1,::1,localhost", "LocalHost.", True),
        ("127.0.0.1,::1,localhost", "a.localhost", False),
        ("*.localhost", "a.localhost", True),
        ("*.localhost", "localhost", False),
        ("127.0.0.0/8", "127.255.255.254", True),
        ("127.0.0.0/8", "[::1]", False),
        ("127.0.0.0/8", "localhost", False),
        ("127.0.0.1", "127.0.0.2", False),
        ("[::1]", "[::1]", True),
    ],
)
def test_it_allows_loopback_only_as_named(patterns, host, expected):
    assert allowed(HostPolicy(patterns), f"http://{host}/") is expected


@pytest.mark.parametrize(
    "patterns, url, expected",
    [
        ("*.pai-eas.aliyuncs.com", f"http://{EAS}/api/predict/s", True),
        ("*.pai-eas.aliyuncs.com", "http://1.vpc.cn-hangzhou.pai-eas.aliyuncs.com/", True),
        ("*.pai-eas.aliyuncs.com", "http://a.b.c.d.pai-eas.aliyuncs.com/", True),
        ("*.pai-eas.aliyuncs.com", "https://1.CN-HANGZHOU.PAI-EAS.ALIYUNCS.COM.:8443/", True),
        ("*.pai-eas.aliyuncs.com", "http://pai-eas.aliyuncs.com/", False),
        ("*.pai-eas.aliyuncs.com", "http://evilpai-eas.aliyuncs.com/", False),
        ("*.pai-eas.aliyuncs.com", "http://x.evilpai-eas.aliyuncs.com/", False),
        ("*.pai-eas.aliyuncs.com", "http://pai-eas.aliyuncs.com.evil.com/", False),
        ("*.pai-eas.aliyuncs.com", "http://10.0.0.1/", False),
        ("*.Example.COM.", "http://a.example.com/", True),
        ("api.example.com", "http://api.example.com:9000/", True),
        ("api.example.com", "http://x.api.example.com/", False),
        ("api.example.com", "http://example.com/", False),
        ("bücher.example", "http://xn--bcher-kva.example/", True),
        ("10.0.0.0/8", "http://10.1.2.3/", True),
        ("10.0.0.0/8", "http://012.1.2.3/", True),
        ("10.0.0.0/8", "http://167838211/", True),
        ("10.0.0.0/8", "http://[::ffff:10.1.2.3]/", True),
        ("10.0.0.0/8", "http://11.0.0.1/", False),
        ("10.0.0.0/8", "http://ten.example.com/", False),
        ("fd00::/8", "http://[fd12::1]/", True),
        ("10.1.2.3", "http://10.1.2.3/", True),
        ("", f"http://{EAS}/", False),
        (" , ,", f"http://{EAS}/", False),
        (["*.example.com", "", "10.0.0.0/8"], "http://10.2.3.4/", True),
    ],
)
def test_it_matches_hosts_against_the_patterns(patterns, url, expected):
    assert allowed(HostPolicy(patterns), url) is expected


def test_it_names_host_and_patterns_when_a_host_is_not_allowed():
    with pytest.raises(EndpointError) as caught:
        DEFAULT.check_endpoint(parse_endpoint("http://example.com/x"))
    assert str(caught.value) == (
        "The host example.com is not allowed by EASPORTAL_ALLOWED_ENDPOINT_HOSTS "
        "(*.pai-eas.aliyuncs.com).")
    assert caught.value.params == {"host": "example.com", "patterns": "*.pai-eas.aliyuncs.com"}


@pytest.mark.parametrize(
    "endpoint, expected",
    [
        (endpoints.Endpoint("http", "127.0.0.1", 8001, "", None), True),
        (endpoints.Endpoint("http", "169.254.169.254", None, "", None), False),
        (endpoints.Endpoint("http", "localhost", None, "", None), False),
    ],
)
def test_it_checks_an_endpoint_built_by_hand_by_what_its_host_means(endpoint, expected):
    try:
        HostPolicy("127.0.0.0/8").check_endpoint(endpoint)
    except EndpointError:
        assert not expected
    else:
        assert expected


def test_it_keeps_the_patterns_as_written():
    assert HostPolicy(" *.Example.com , 10.0.0.0/8,,").patterns == ("*.Example.com", "10.0.0.0/8")


@pytest.mark.parametrize(
    "pattern",
    ["*", "*.", "a*b.com", "*.*.com", "**.com", "10.0.0.0/33", "http://x", "1.2.3.256",
     "fe80::1%eth0", "exa mple.com", "*.10.0.0.1", "example.com:80", "10.0.0.0/8/8"],
)
def test_it_refuses_malformed_patterns_naming_them(pattern):
    with pytest.raises(ValueError, match="EASPORTAL_ALLOWED_ENDPOINT_HOSTS") as caught:
        HostPolicy(f"*.pai-eas.aliyuncs.com, {pattern}")
    assert repr(pattern) in str(caught.value)


@pytest.mark.parametrize(
    "patterns, host, ip, expected",
    [
        ("*.pai-eas.aliyuncs.com", EAS, "127.0.0.1", False),
        ("*.pai-eas.aliyuncs.com", EAS, "::1", False),
        ("*.pai-eas.aliyuncs.com", EAS, "::ffff:127.0.0.1", False),
        ("*.pai-eas.aliyuncs.com", EAS, "10.1.2.3", True),
        ("*.pai-eas.aliyuncs.com", EAS, IPv4Address("10.1.2.3"), True),
        ("*.pai-eas.aliyuncs.com", EAS, "172.16.0.5", True),
        ("*.pai-eas.aliyuncs.com", EAS, "192.168.1.1", True),
        ("*.pai-eas.aliyuncs.com", EAS, "47.96.1.1", True),
        ("*.pai-eas.aliyuncs.com", EAS, "2408:4000::1", True),
        ("*.pai-eas.aliyuncs.com", EAS, "169.254.169.254", False),
        ("*.pai-eas.aliyuncs.com", EAS, "100.100.100.200", False),
        ("*.pai-eas.aliyuncs.com", EAS, "::ffff:169.254.169.254", False),
        ("*.pai-eas.aliyuncs.com", EAS, "64:ff9b::a9fe:a9fe", False),
        ("*.pai-eas.aliyuncs.com", EAS, "fe80::1%eth0", False),
        ("*.pai-eas.aliyuncs.com", EAS, "0.0.0.0", False),
        ("localhost", "localhost", "127.0.0.1", True),
        ("localhost", "localhost.", "::1", True),
        ("localhost", "localhost", "10.0.0.1", True),
        ("*.localhost", "api.localhost", "127.0.0.1", True),
        ("*.example.com", "localhost.example.com", "127.0.0.1", False),
        ("myhost.internal", "myhost.internal", "127.0.0.1", False),
        ("127.0.0.1", "a.example.com", "127.0.0.1", True),
        ("127.0.0.1", "a.example.com", "127.0.0.2", False),
        ("127.0.0.0/8", "127.0.0.1", "127.0.0.1", True),
        ("localhost, 0.0.0.0/0, ::/0", "localhost", "169.254.169.254", False),
        ("localhost, 0.0.0.0/0, ::/0", "localhost", "fd00:ec2::254", False),
    ],
)
def test_it_checks_resolved_addresses_at_send_time(patterns, host, ip, expected):
    assert address_allowed(HostPolicy(patterns), host, ip) is expected


def test_it_names_host_and_address_when_a_resolved_address_is_refused():
    with pytest.raises(EndpointError) as caught:
        DEFAULT.check_address(EAS, "::ffff:169.254.169.254")
    address = str(ip_address("::ffff:169.254.169.254"))  # spelled differently from 3.13 on
    assert caught.value.params == {"host": EAS, "address": address}
    assert str(caught.value).startswith(f"{EAS} resolves to {address}, a link-local")
