import ast
import json
import sys
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest

from services import endpoints
from services.endpoints import (
    EasHost,
    EndpointError,
    HostPolicy,
    PathError,
    classify_eas_host,
    eas_service_name,
    endpoint_warnings,
    is_loopback,
    join_url,
    parse_endpoint,
    parse_ip,
    refused_reason,
    region_of,
)

DEFAULT = HostPolicy("*.pai-eas.aliyuncs.com")
# Allows everything a pattern can allow: whatever stays refused is refused by the module.
EVERYTHING = HostPolicy("0.0.0.0/0, ::/0, localhost, *.localhost, *.com")
EAS = "1234567890123456.cn-hangzhou.pai-eas.aliyuncs.com"
JOIN_CASES = json.loads((Path(__file__).parent / "join_cases.json").read_text("utf-8"))


def allowed(policy, url):
    try:
        policy.check_endpoint(parse_endpoint(url))
    except EndpointError:
        return False
    return True


def address_allowed(policy, host, ip):
    try:
        policy.check_address(host, ip)
    except EndpointError:
        return False
    return True


def assert_readable(error):
    text = str(error)
    assert text == error.message % error.params
    assert "%(" not in text and text.endswith(".")
    assert not any(ord(char) < 32 for char in text)


@pytest.mark.parametrize(
    "host, expected",
    [
        (EAS, EasHost("1234567890123456", "cn-hangzhou", False)),
        ("1234567890123456.vpc.cn-hangzhou.pai-eas.aliyuncs.com",
         EasHost("1234567890123456", "cn-hangzhou", True)),
        ("1.cn-shanghai.pai-eas.aliyuncs.com", EasHost("1", "cn-shanghai", False)),
        ("1.vpc.ap-southeast-1.pai-eas.aliyuncs.com", EasHost("1", "ap-southeast-1", True)),
        ("1.us-west-1.pai-eas.aliyuncs.com", EasHost("1", "us-west-1", False)),
        ("1.vpc.cn-shanghai-finance-1.pai-eas.aliyuncs.com",
         EasHost("1", "cn-shanghai-finance-1", True)),
        ("gw-1a2b3c.cn-hangzhou.pai-eas.aliyuncs.com", EasHost("gw-1a2b3c", "cn-hangzhou", False)),
        ("gw-1a2b3c.vpc.cn-hangzhou.pai-eas.aliyuncs.com",
         EasHost("gw-1a2b3c", "cn-hangzhou", True)),
        ("1234.VPC.CN-Beijing.PAI-EAS.Aliyuncs.com.", EasHost("1234", "cn-beijing", True)),
    ],
)
def test_it_classifies_eas_public_vpc_and_gateway_hosts(host, expected):
    assert classify_eas_host(host) == expected


@pytest.mark.parametrize(
    "host",
    [
        "pai-eas.aliyuncs.com",
        "cn-hangzhou.pai-eas.aliyuncs.com",
        "1.2.cn-hangzhou.pai-eas.aliyuncs.com",
        "1.cn-hangzhou.evilpai-eas.aliyuncs.com",
        "1.cn-hangzhou.pai-eas.aliyuncs.com.evil.com",
        "1.hangzhou.pai-eas.aliyuncs.com",
        "example.com",
        "127.0.0.1",
    ],
)
def test_it_does_not_classify_other_hosts_as_eas(host):
    assert classify_eas_host(host) is None


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/predict/s", "s"),
        ("/api/predict/my_llm/v1", "my_llm"),
        ("/api/predict/", None),
        ("/api/predict", None),
        ("/x/api/predict/s", None),
        ("/v1", None),
        ("", None),
    ],
)
def test_it_finds_the_eas_service_name_in_a_base_path(path, name):
    assert eas_service_name(path) == name


@pytest.mark.parametrize(
    "text, scheme, host, port, path, url",
    [
        (f"http://{EAS}/api/predict/s", "http", EAS, None, "/api/predict/s",
         f"http://{EAS}/api/predict/s"),
        (" HTTPS://Example.COM/api/predict/s/ ", "https", "example.com", None, "/api/predict/s",
         "https://example.com/api/predict/s"),
        ("http://h/api/predict/s///", "http", "h", None, "/api/predict/s", "http://h/api/predict/s"),
        ("http://h", "http", "h", None, "", "http://h"),
        ("http://h/", "http", "h", None, "", "http://h"),
        ("http://h.:8001/x", "http", "h", 8001, "/x", "http://h:8001/x"),
        ("http://h:80/x", "http", "h", None, "/x", "http://h/x"),
        ("https://h:443", "https", "h", None, "", "https://h"),
        ("https://h:80", "https", "h", 80, "", "https://h:80"),
        ("http://[::1]:8001/api", "http", "::1", 8001, "/api", "http://[::1]:8001/api"),
        ("http://2130706433/x", "http", "127.0.0.1", None, "/x", "http://127.0.0.1/x"),
        ("http://bücher.example/x", "http", "xn--bcher-kva.example", None, "/x",
         "http://xn--bcher-kva.example/x"),
        ("http://１２７.０.０.１/", "http", "127.0.0.1", None, "", "http://127.0.0.1"),
        ("http://h/api/中/a|b/%2F", "http", "h", None, "/api/%E4%B8%AD/a%7Cb/%2F",
         "http://h/api/%E4%B8%AD/a%7Cb/%2F"),
        ("http://my_host-1.internal/x", "http", "my_host-1.internal", None, "/x",
         "http://my_host-1.internal/x"),
    ],
)
def test_it_parses_endpoints_into_canonical_parts(text, scheme, host, port, path, url):
    endpoint = parse_endpoint(text)
    assert (endpoint.scheme, endpoint.host, endpoint.port, endpoint.path) == (
        scheme, host, port, path)
    assert endpoint.url == url
    assert parse_endpoint(endpoint.url) == endpoint


@pytest.mark.parametrize(
    "text",
    [
        "", "   ",
        "ftp://h/x", "file:///etc/passwd", "h/x", "example.com:8080/x", "http:/h", "http:h",
        "http://", "http:///x", "http://:8000/x",
        "http://user:pass@h/x", "http://user@h", "http://@h",
        "http://h/x?y=1", "http://h?", "http://h/x#y",
        "http://h:0/", "http://h:65536/", "http://h:x/", "http://h:/", "http://h:+80/",
        "http://h /x", "http://h/a b", "http://h/\tx", "http://h/x\ny", "http://h\u3000/x",
        "http://h\\x", "http://h/a\\b",
        "http://::1/", "http://[::1/", "http://[::1]x/", "http://[fe80::1%25eth0]/",
        "http://[1.2.3.4]/",
        "http://a..b/", "http://-a.com/", "http://a%2eb/", "http://a*b.com/",
        "http://" + "ü" * 70 + ".com/", "http://h/\ud800",
        "http://1.2.3.256/", "http://1.2.3.4.5/", "http://08.0.0.1/", "http://example.123/",
        "http://1.2.3.4../",
        "http://h/a/../b", "http://h/./b", "http://h/a/%2e%2E/",
    ],
)
def test_it_refuses_malformed_endpoints_with_a_readable_message(text):
    with pytest.raises(EndpointError) as caught:
        parse_endpoint(text)
    assert_readable(caught.value)


@pytest.mark.parametrize(
    "host, expected",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.000.000.001", "127.0.0.1"),
        ("169.254.169.254.", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("0xA9FEA9FE", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("169.254.43518", "169.254.169.254"),
        ("1684301000", "100.100.100.200"),
        ("0", "0.0.0.0"),
        ("0x.0x.0x.0x", "0.0.0.0"),
        ("4294967295", "255.255.255.255"),
        ("012.1.2.3", "10.1.2.3"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[FE80::1]", "fe80::1"),
    ],
)
def test_it_reads_addresses_in_any_spelling(host, expected):
    assert parse_ip(host) == ip_address(expected)


@pytest.mark.parametrize(
    "host",
    ["example.com", "localhost", "1.2.3.4.nip.io", "0x.example.com", "0xg", "a.0xz", "x.09a"],
)
def test_it_reads_names_as_names(host):
    assert parse_ip(host) is None


@pytest.mark.parametrize(
    "host",
    [
        "1.2.3.256", "256.1.1.1", "1.2.3.4.5", "08", "1.2.3.09", "0x1.0x1000000",
        "4294967296", "1..2.3", "[fe80::1%eth0]", "fe80::1%eth0", "[::g]", "1:2",
    ],
)
def test_it_refuses_hosts_that_are_broken_addresses(host):
    with pytest.raises(EndpointError) as caught:
        parse_ip(host)
    assert_readable(caught.value)


METADATA_FORMS = [
    "169.254.169.254", "2852039166", "0xA9FEA9FE", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376",
    "169.254.169.254.", "169.254.0.1", "[fe80::1]", "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]", "[::a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b:1::a9fe:a9fe]",
    "[2002:a9fe:a9fe::]", "[::ffff:0:a9fe:a9fe]", "[2001:0:4136:e378:8000:63bf:5601:5601]",
    "100.100.100.200", "1684301000", "0x646464c8", "[::ffff:100.100.100.200]",
    "[::ffff:6464:64c8]", "[64:ff9b::6464:64c8]", "[fd00:ec2::254]",
]
NOWHERE_FORMS = [
    "0.0.0.0", "0", "0.1.2.3", "[::]", "[::ffff:0.0.0.0]", "255.255.255.255", "224.0.0.1",
    "239.255.255.250", "[ff02::1]", "[::ffff:224.0.0.1]",
]


@pytest.mark.parametrize("host", METADATA_FORMS + NOWHERE_FORMS)
def test_it_refuses_metadata_and_special_addresses_in_any_spelling(host):
    assert refused_reason(parse_ip(host)) is not None
    for policy in (DEFAULT, EVERYTHING):
        with pytest.raises(EndpointError) as caught:
            policy.check_endpoint(parse_endpoint(f"http://{host}:8080/api/predict/s"))
        assert_readable(caught.value)
        assert "always refused" in str(caught.value)


def test_the_teredo_form_in_the_table_is_169_254_169_254():
    assert IPv6Address("2001:0:4136:e378:8000:63bf:5601:5601").teredo[1] == IPv4Address(
        "169.254.169.254")


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "172.16.0.5", "192.168.1.1", "47.96.1.1", "100.100.100.201", "::1",
     "127.0.0.1", "fd00::1", "2001:db8::1", "2002:0a01:0203::", "64:ff9b::a01:203"],
)
def test_it_refuses_nothing_else_always(address):
    assert refused_reason(ip_address(address)) is None


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


def url_or_none(text):
    return parse_endpoint(text) if text else None


PUBLIC = f"http://{EAS}/api/predict/s"
VPC = "http://1234567890123456.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/s"


@pytest.mark.parametrize(
    "public, vpc, expected",
    [
        (PUBLIC, VPC, []),
        (PUBLIC, None, []),
        (None, VPC, []),
        (None, None, []),
        ("http://127.0.0.1:8001/api/predict/demo", None, []),
        ("http://example.com/v1", "http://example.com/v2", []),
        ("http://gw-1a.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/s/v1", None, []),
        (VPC, None, ["looks like a VPC address"]),
        (None, PUBLIC, ["looks like a public address"]),
        (VPC, PUBLIC, ["looks like a VPC address", "looks like a public address"]),
        (f"http://{EAS}", None, ["404 Not Found"]),
        (PUBLIC, VPC.removesuffix("/api/predict/s"), ["404 Not Found"]),
        (PUBLIC, "http://1.vpc.cn-beijing.pai-eas.aliyuncs.com/api/predict/s", ["region"]),
        (PUBLIC, VPC.replace("/s", "/t"), ["service s but the VPC endpoint calls t"]),
    ],
)
def test_it_warns_about_endpoints_that_look_wrong(public, vpc, expected):
    warnings = endpoint_warnings(url_or_none(public), url_or_none(vpc))
    assert len(warnings) == len(expected)
    for warning, words in zip(warnings, expected, strict=True):
        assert words in str(warning)
        assert "%(" not in str(warning) and str(warning).endswith(".")


@pytest.mark.parametrize(
    "public, vpc, region",
    [
        (PUBLIC, VPC, "cn-hangzhou"),
        (None, "http://1.vpc.ap-southeast-1.pai-eas.aliyuncs.com/api/predict/s", "ap-southeast-1"),
        ("http://example.com/x", "http://1.vpc.us-west-1.pai-eas.aliyuncs.com/", "us-west-1"),
        ("http://example.com/x", None, ""),
        (None, None, ""),
    ],
)
def test_it_takes_the_region_from_the_first_eas_endpoint(public, vpc, region):
    assert region_of(url_or_none(public), url_or_none(vpc)) == region


def join_case(row):
    path, url, *base = row
    return (base[0] if base else JOIN_CASES["base"]), path, url


@pytest.mark.parametrize("base, path, url", [join_case(row) for row in JOIN_CASES["ok"]])
def test_it_joins_base_and_path(base, path, url):
    assert join_url(base, path) == url
    # Joining what we produced gives it back: requests and browsers leave it alone too.
    assert join_url(base, url[len(base):]) == url


@pytest.mark.parametrize("path", JOIN_CASES["refused"])
def test_it_refuses_paths_that_would_leave_the_endpoint(path):
    with pytest.raises(PathError) as caught:
        join_url(JOIN_CASES["base"], path)
    assert_readable(caught.value)


def test_the_join_table_holds_every_row_of_the_design():
    ok = {row[0]: row[1] for row in JOIN_CASES["ok"] if len(row) == 2}
    assert ok["v1/models"] == "http://h/api/predict/s/v1/models"
    assert ok["/a b/中"] == "http://h/api/predict/s/a%20b/%E4%B8%AD"
    assert {"//evil/x", "http://x/", "/../x", "/%2e%2e/x", "\\x"} <= set(JOIN_CASES["refused"])


def test_it_joins_onto_a_base_given_with_its_trailing_slash():
    assert join_url("http://h/api/predict/s/", "v1/models") == "http://h/api/predict/s/v1/models"


def test_it_refuses_a_path_that_is_not_utf8():
    with pytest.raises(PathError):
        join_url("http://h", "/\ud800")


def test_errors_carry_a_template_and_its_params_for_translation():
    error = EndpointError("%(host)s is odd.", host="h")
    assert (error.message, error.params) == ("%(host)s is odd.", {"host": "h"})
    assert str(error) == "h is odd."
    assert isinstance(PathError("x"), EndpointError) and isinstance(error, ValueError)


def test_it_imports_only_the_standard_library():
    tree = ast.parse(Path(endpoints.__file__).read_text("utf-8"))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)}
    assert modules <= sys.stdlib_module_names
    assert "socket" not in modules
