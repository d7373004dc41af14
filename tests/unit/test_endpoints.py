import ast
import sys
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest

from services.net import addresses, endpoints, errors, join
from services.net.addresses import parse_ip, refused_reason
from services.net.endpoints import (
    EasHost,
    HostPolicy,
    classify_eas_host,
    eas_service_name,
    endpoint_warnings,
    parse_endpoint,
    region_of,
)
from services.net.errors import EndpointError, PathError
from tests.helpers import DEFAULT, EAS, assert_readable

# Allows everything a pattern can allow: whatever stays refused is refused by the module.
EVERYTHING = HostPolicy("0.0.0.0/0, ::/0, localhost, *.localhost, *.com")


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


def test_errors_carry_a_template_and_its_params_for_translation():
    error = EndpointError("%(host)s is odd.", host="h")
    assert (error.message, error.params) == ("%(host)s is odd.", {"host": "h"})
    assert str(error) == "h is odd."
    refused = PathError("control", "x")
    assert isinstance(refused, EndpointError) and isinstance(error, ValueError)
    assert refused.code == "control"


@pytest.mark.parametrize("module", [addresses, endpoints, errors, join])
def test_it_imports_only_the_standard_library(module):
    tree = ast.parse(Path(module.__file__).read_text("utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    outside = {name.split(".")[0] for name in modules if not name.startswith("services.net.")}
    assert outside <= sys.stdlib_module_names
    assert "socket" not in outside
