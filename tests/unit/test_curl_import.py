"""The curl import's reading (services/curl/), proven three ways on the corpus of
tests/unit/curl_cases.py: each command gives the request written beside it (or is refused with
its message); bash, running it, hands curl exactly the words (and standard input) the import
read; and the real curl, sending it to a server of this test, puts that request on the wire
(less what curl adds of its own and the credentials the import drops). The portal's own curl
snippets of tests/snippets/corpus.py are read by bash as the import reads them too; the API's
tests (tests/api/test_curl_import.py) import each of them and get its request back."""

import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from services import curl, snippets
from services.calls import CallRequest
from services.curl import options
from services.curl.match import Candidate, find
from services.curl.shell import curl_command
from services.models import Service
from services.snippets.quoting import sh_printf_bytes
from tests.snippets.corpus import CORPUS
from tests.unit.curl_cases import CASES, REFUSED

BASH = shutil.which("bash")
CURL = shutil.which("curl")
# What curl sends of its own, which is no part of the request the import gives (Accept-Encoding:
# --compressed, and the portal's client asks for gzip and deflate itself), and the credentials
# the import drops.
CURL_OWN = {"host", "content-length", "expect", "accept-encoding", "authorization"}
TOKEN_VALUES = ("${EAS_TOKEN}", "$EAS_TOKEN", "<EAS_TOKEN>")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_command_gives_its_request(case):
    request = curl.parse(case.command)
    assert (request.method, request.url) == (case.method, case.url)
    assert request.headers == list(case.headers)
    assert request.body == case.body
    assert [str(note) for note in request.notes] == list(case.notes)


@pytest.mark.parametrize(("name", "command", "message"), REFUSED,
                         ids=[name for name, _command, _message in REFUSED])
def test_the_command_is_refused_with_its_reason(name, command, message):
    with pytest.raises(curl.CurlImportError) as refused:
        curl.parse(command)
    assert str(refused.value) == message
    assert refused.value.message % refused.value.params == message


# bash agrees

def run_bash(script, directory, env=None):
    """Runs the script from a file (a snippet may be longer than an argument may be), in a
    UTF-8 locale (for $'\\u00e9')."""
    if BASH is None:
        pytest.skip("bash is not installed")
    (Path(directory) / "script.sh").write_text(script, encoding="utf-8")
    subprocess.run([BASH, "script.sh"], cwd=directory, stdin=subprocess.DEVNULL,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(directory), "LC_ALL": "C.UTF-8",
                        **(env or {})},
                   check=True, capture_output=True, timeout=60)


def as_written(words):
    """An environment in which bash expands each $NAME and ${NAME...} of the words to itself,
    as the import keeps them."""
    env = {}
    for word in words:
        for written in word.expansions:
            name = re.match(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", written)
            if name:
                env[name.group(1)] = written
    return env


def assert_bash_reads(command, directory):
    read = curl_command(command)
    run_bash('curl() { printf "%s\\0" "$@" > argv; cat > stdin; }\n'
             "jq() { cat > /dev/null; }\n" + command + "\n", directory, as_written(read.args))
    words = (Path(directory) / "argv").read_bytes().split(b"\0")[:-1]
    assert words == [word.data for word in read.args]
    assert (Path(directory) / "stdin").read_bytes() == (read.stdin or b"")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bash_hands_curl_the_words_the_import_read(case, tmp_path):
    assert_bash_reads(case.command, tmp_path)


def corpus_snippets():
    for case in CORPUS:
        service = Service(slug="s", kind=case.kind, public_endpoint="http://127.0.0.1:9/api/"
                          "predict/" + case.service, default_path="/echo", timeout_s=60)
        request = snippets.from_request(service, CallRequest(
            method=case.method, path=case.path, headers=case.headers, body=case.body))
        if snippets.unavailable_reason(request, "curl") is None:
            yield pytest.param(snippets.render(request, "curl", "env"), id=case.name)


@pytest.mark.parametrize("text", list(corpus_snippets()))
def test_bash_reads_the_portals_own_snippets_as_the_import_does(text, tmp_path):
    assert_bash_reads(text, tmp_path)


# The real curl agrees

class Capture:
    """A server on loopback that keeps each request it receives, raw, and answers 200."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.received = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _address = self.socket.accept()
            except OSError:
                return
            with connection:
                self.received.append(self.read(connection))
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                   b"Connection: close\r\n\r\n")

    @staticmethod
    def read(connection):
        connection.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536) or b"\r\n\r\n"
        head, _blank, body = data.partition(b"\r\n\r\n")
        size = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
        while size and len(body) < int(size.group(1)):
            body += connection.recv(65536)
        return head, body


@pytest.fixture(scope="module")
def capture():
    server = Capture()
    yield server
    server.socket.close()


def on_the_wire(head, body):
    """(method, target, headers, body) of a raw request, less what curl adds of its own."""
    line, *fields = head.decode("utf-8").split("\r\n")
    method, target, _version = line.split(" ")
    headers = []
    for field in fields:
        name, _colon, value = field.partition(":")
        value = value.strip(" \t")
        if name.lower() in CURL_OWN or value in TOKEN_VALUES:
            continue
        if (name, value[:5]) == ("User-Agent", "curl/") or (name, value) == ("Accept", "*/*"):
            continue
        headers.append((name, value))
    return method, target, headers, body


@pytest.mark.parametrize("case", [case for case in CASES if case.wire], ids=str)
def test_curl_sends_the_request_the_import_gives(case, capture, tmp_path):
    if CURL is None:
        pytest.skip("curl is not installed")
    read = curl_command(case.command)
    capture.received.clear()
    run_bash(f'curl() {{ {CURL} -s -o /dev/null --connect-to "::127.0.0.1:{capture.port}" '
             '"$@"; }\njq() { cat > /dev/null; }\n' + case.command + "\n", tmp_path,
             as_written(read.args))
    assert len(capture.received) == 1
    method, target, headers, body = on_the_wire(*capture.received[0])
    assert (method, target) == (case.method, re.sub(r"^https?://[^/?]*", "", case.url) or "/")
    assert headers == list(case.headers)
    assert body == case.body


# Options, the service, notes

def test_each_short_option_is_one_long_option():
    letters = [option.letter for option in options.LONG.values() if option.letter]
    assert len(letters) == len(set(letters)) == len(options.SHORT)
    understood = {"method", "header", "data", "url", "user", "bearer", "user-agent", "referer",
                  "cookie", "get", "head", "globoff", "path-as-is"}
    actions = {option.action for option in options.LONG.values()}
    assert actions == understood | {"ignore", "refuse"} | {
        "note:" + key for key in options.NOTES}


BASE = "http://1234567890123456.cn-hangzhou.pai-eas.aliyuncs.com/api/predict"
VPC = BASE.replace(".cn-hangzhou", ".vpc.cn-hangzhou")
CANDIDATES = [
    Candidate("chat", "public", BASE + "/chat", default=True),
    Candidate("chat", "vpc", VPC + "/chat", default=False),
    Candidate("chatty", "public", BASE + "/chatty", default=True),
    Candidate("root", "public", "http://127.0.0.1:8000", default=True),
]


@pytest.mark.parametrize(("url", "slug", "kind", "path"), [
    (BASE + "/chat/v1/models", "chat", "public", "/v1/models"),
    (BASE + "/chat", "chat", "public", ""),
    (BASE + "/chat?x=1", "chat", "public", "?x=1"),
    (BASE + "/chat/", "chat", "public", "/"),
    (VPC + "/chat/v1/models", "chat", "vpc", "/v1/models"),
    (BASE + "/chatty/v1/models", "chatty", "public", "/v1/models"),
    (BASE.replace("http://1234567890123456.cn", "HTTP://1234567890123456.CN").replace(
        ".com", ".com:80") + "/chat/x", "chat", "public", "/x"),
    (BASE + "/chat/a b", "chat", "public", "/a%20b"),
    (BASE + "/chatbot/v1/models", None, None, "/api/predict/chatbot/v1/models"),
    ("https://" + BASE.removeprefix("http://") + "/chat/x", None, None, "/api/predict/chat/x"),
    ("http://127.0.0.1:8000?q=1", "root", "public", "?q=1"),
    ("http://127.0.0.1:8001/x", None, None, "/x"),
    ("http://127.0.0.1:8001", None, None, "/"),
])
def test_the_service_is_the_one_whose_endpoint_the_url_starts_with(url, slug, kind, path):
    found = find(url, CANDIDATES)
    assert (found.slug, found.kind, found.path) == (slug, kind, path)


def test_of_two_services_with_one_endpoint_the_note_names_both():
    twins = [*CANDIDATES, Candidate("alias", "public", BASE + "/chat", default=True)]
    imported = curl.import_command(f"curl {BASE}/chat/v1/models", twins)
    assert imported.service == "alias"
    assert [str(note) for note in imported.notes] == [
        "The URL fits more than one of your services (alias, chat): alias was chosen."]


def test_no_service_is_a_note_and_the_urls_path():
    imported = curl.import_command("curl https://api.openai.com/v1/models", CANDIDATES)
    assert (imported.service, imported.endpoint, imported.path) == (None, None, "/v1/models")
    assert [str(note) for note in imported.notes] == [
        "No service of yours has an endpoint that this URL starts with: choose the service, "
        "or register it first."]


def test_what_the_portal_would_refuse_is_noted():
    imported = curl.import_command(f"curl --path-as-is {BASE}/chat/a/../b", CANDIDATES)
    assert imported.path == "/a/../b"
    assert [str(note) for note in imported.notes] == [
        "The path /a/../b contains a . or .. segment, which would leave the endpoint; remove it."]
    big = curl.import_command(f"printf '%s' '{'x' * 1_048_577}' | curl {BASE}/chat "
                              "--data-binary @-", CANDIDATES)
    assert [str(note) for note in big.notes] == [
        "The body is 1048577 bytes; the EAS gateway accepts at most 1048576 bytes (1 MB), so "
        "the portal will not send it."]


def test_a_command_over_five_mebibytes_is_refused():
    body = bytes(range(256)) * 4096  # 1 MB, binary: the portal's largest, as its snippet sends it
    snippet = sh_printf_bytes(body) + " | curl http://h/p --data-binary @-"
    assert curl.parse(snippet).body == body
    with pytest.raises(curl.CurlImportError) as refused:
        curl.parse("curl http://h/p" + " -s" * (curl.MAX_COMMAND_CHARS // 3))
    assert str(refused.value) == ("The command is 5242893 characters long; the import reads at "
                                  "most 5242880.")
