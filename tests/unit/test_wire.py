"""How a call is put on the wire (services/net/transport.py): byte for byte as requests
writes it, which the snippets rely on, and over TLS to the address that was checked, with the
certificate still verified against the host name."""

import socket
import ssl
import threading

import pytest
import requests

from services.net import client
from services.net.errors import CallError
from tests.unit.test_client import fake_dns, send

HEADER_CASES = [
    ("POST", {"Content-Type": "application/json"}, b'{"a": 1}'),
    ("POST", {"Content-Type": "application/json"}, b""),
    ("GET", {}, b""),
    ("HEAD", {"Accept": "*/*"}, b""),
    ("DELETE", {}, b""),
    ("OPTIONS", {}, b""),
    ("PUT", {"X-Trace": "1"}, bytes(range(256))),
    # The same header twice in other cases: one is kept, as requests keeps it.
    ("PATCH", {"user-agent": "mine", "User-Agent": "theirs", "x-a": "1", "X-A": "2"}, b"x"),
    ("GET", {"Accept": "text/plain", "ACCEPT": "text/html"}, b"body on a GET"),
]
URLS = ["http://127.0.0.1:8080/api/predict/svc/v1/chat/completions?x=1&y=%20z",
        "https://Example.COM/", "http://127.0.0.1:9", "https://[::1]:8443/a b/ü?q=ü#frag",
        "http://xn--fsq.example/路径"]


@pytest.mark.parametrize("method, headers, body", HEADER_CASES)
def test_the_request_is_put_as_requests_prepares_it(method, headers, body):
    """transport writes what requests would (a snippet sends the call with requests, byte for
    byte): the same headers in the same order and spelling, the same Content-Length, the same
    request line, for every URL."""
    for url in URLS:
        with_host = {**client.DEFAULT_HEADERS, **headers, "Host": "h"}
        expected = requests.Request(method, url, headers=with_host, data=body or None).prepare()
        assert list(client.transport.headers_of(method, with_host, body).items()) == list(
            expected.headers.items())
        where = client.transport.target(url)
        assert where.path == expected.path_url
        assert f"{where.scheme}://" in expected.url and where.host in expected.url.lower()


def test_an_unknown_certificate_is_a_tls_error(tmp_path):
    port, _cert = serve_tls(tmp_path)
    with pytest.raises(CallError) as failure:
        send(f"https://localhost:{port}/", method="GET", deadline_s=3)
    assert failure.value.kind == "tls"
    assert "certificate verify failed" in str(failure.value)


@pytest.mark.parametrize("certified, works", [("eas.invalid", True), ("other.invalid", False)])
def test_tls_goes_to_the_checked_address_and_verifies_the_host_name(tmp_path, monkeypatch,
                                                                      certified, works):
    """A call to https://eas.invalid connects to the address that was checked and still
    verifies the certificate against the host name (SNI and the name check), not against the
    address: a trusted certificate for another name is refused."""
    port, cert = serve_tls(
        tmp_path, certified, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    monkeypatch.setitem(client.transport._TLS, "ca_certs", cert)  # trusted, as a CA would be
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(["127.0.0.1"]))
    if works:
        response = send(f"https://eas.invalid:{port}/", method="GET", deadline_s=3)
        assert (response.status, response.body) == (200, b"ok")
        return
    with pytest.raises(CallError) as failure:
        send(f"https://eas.invalid:{port}/", method="GET", deadline_s=3)
    assert failure.value.kind == "tls"


# Helpers: a TLS server with a certificate of its own.

def serve_tls(tmp_path, name="localhost", answer=b""):
    """A TLS server on 127.0.0.1 with a certificate for name, that answers one request with
    answer: its port and the certificate's file."""
    cert, key = self_signed(tmp_path, name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))

    def run():
        conn, _ = listener.accept()
        with listener:
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(answer)
            except (ssl.SSLError, OSError):
                pass

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1], cert


def self_signed(tmp_path, name):
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)
