"""The emulator stands on its own: it runs in an interpreter where Django cannot be imported,
`python -m emulator` serves, a bad start is one line and exit status 2, and the portal reaches
it only through its one bridge, manage.py eas_emulator."""

import ast
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import CommandError, call_command

from tests.helpers import BASE_DIR, free_port, wait_for_port

CHAT_TOKEN = "demo-chat-token-0001"

# Run by a fresh interpreter: every module of the package is imported (so a module added later
# is covered too), then a demo service is called over a real socket.
WITHOUT_DJANGO = """
import http.client, importlib, json, pkgutil, sys

sys.modules["django"] = None  # from here on, any import of Django fails

import emulator

for module in pkgutil.iter_modules(emulator.__path__):
    importlib.import_module("emulator." + module.name)
server, thread = emulator.start_in_thread(port=0)
try:
    conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
    conn.request("GET", "/api/predict/demo-chat/v1/models",
                 headers={"Authorization": emulator.DEMO_SERVICES["demo-chat"]["token"]})
    response = conn.getresponse()
    print(response.status, json.loads(response.read())["data"][0]["id"])
    conn.close()
finally:
    emulator.stop(server, thread)
print(sorted(name for name in sys.modules if name.partition(".")[0] == "emulator"))
"""


def test_it_runs_where_django_cannot_be_imported():
    done = subprocess.run([sys.executable, "-c", WITHOUT_DJANGO], cwd=BASE_DIR, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    status_line, modules = done.stdout.splitlines()
    assert status_line == "200 Qwen3-8B"
    files = {path.stem for path in (BASE_DIR / "emulator").glob("*.py")} - {"__init__"}
    assert {f"emulator.{name}" for name in files} <= set(ast.literal_eval(modules))


def models_when_up(port, process):
    """The demo chat service's /v1/models, once the process listens."""
    wait_for_port(port, process)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/predict/demo-chat/v1/models",
                                     headers={"Authorization": CHAT_TOKEN})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


@pytest.mark.parametrize("port_from", ["--port", "EMULATOR_PORT"])
def test_python_m_emulator_serves_the_demo_set(port_from):
    port = free_port()
    command, env = [sys.executable, "-m", "emulator"], dict(os.environ)
    if port_from == "--port":
        command += ["--port", str(port)]
    else:
        env["EMULATOR_PORT"] = str(port)
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        status, models = models_when_up(port, process)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert (status, models["data"][0]["id"]) == (200, "Qwen3-8B"), err
    assert out.splitlines()[0] == (f"EAS emulator on http://127.0.0.1:{port}/api/predict/"
                                   "<service> serving demo-chat, demo-echo, demo-reranker")


def test_python_m_emulator_paces_streams_and_answers_the_control_route():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port),
                                "--tokens-per-s", "20", "--threads", "8"], cwd=BASE_DIR,
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        body = json.dumps({"messages": [{"role": "user", "content": "a b c d"}],
                           "stream": True}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/predict/demo-chat/v1/chat/completions", data=body,
            headers={"Authorization": CHAT_TOKEN, "Content-Type": "application/json"})
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.read().endswith(b"data: [DONE]\n\n")
        took = time.monotonic() - started
        control = f"http://127.0.0.1:{port}/__emulator__/received?last=1"
        with urllib.request.urlopen(control, timeout=30) as response:
            record = json.loads(response.read())["received"][0]
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert took >= 0.29, err  # "You said: a b c d" is 6 tokens, 50 ms apart
    assert record["path"] == "/api/predict/demo-chat/v1/chat/completions"
    assert record["finished_at"] - record["started_at"] >= 0.29
    assert record["disconnected"] is False
    assert out.splitlines()[0].endswith("demo-reranker streaming 20 tokens/s")


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("args, env, message", [
    (["--config", "{tmp}/services.json"], {}, "services.json: not valid JSON"),
    (["--config", "{tmp}/missing.json"], {}, "missing.json: cannot read it (No such file"),
    (["--config", "{tmp}/empty-token.json"], {}, "services.chat.token: expected a non-empty"),
    (["--port", "http"], {}, "--port: expected a port number from 0 to 65535, not 'http'."),
    (["--port", "65536"], {}, "--port: expected a port number from 0 to 65535"),
    ([], {"EMULATOR_PORT": "eighty"}, "EMULATOR_PORT: expected a port number"),
    (["--port", "{taken}"], {}, "cannot listen on 127.0.0.1:{taken}: Address already in use."),
    (["--tokens-per-s", "fast"], {}, "--tokens-per-s: expected a number of tokens per second, "
                                     "0 or more, not 'fast'."),
    (["--tokens-per-s", "-5"], {}, "--tokens-per-s: expected a number of tokens per second"),
    (["--threads", "0"], {}, "--threads: expected a number from 1 to 4096, not '0'."),
])
def test_a_bad_start_is_one_line_and_exit_status_2(tmp_path, taken_port, args, env, message):
    (tmp_path / "services.json").write_text('{"services": ')
    (tmp_path / "empty-token.json").write_text(json.dumps({"services": {"chat": {"token": ""}}}))
    args = [arg.format(tmp=tmp_path, taken=taken_port) for arg in args]
    done = subprocess.run([sys.executable, "-m", "emulator", *args], cwd=BASE_DIR, timeout=60,
                          env={**os.environ, **env}, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("EAS emulator: ")
    assert message.format(taken=taken_port) in done.stderr


def test_the_django_command_refuses_a_bad_port_with_the_same_status():
    with pytest.raises(CommandError, match="--port: expected a port number") as refused:
        call_command("eas_emulator", port="http")
    assert refused.value.returncode == 2


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_no_emulator_module_imports_django_even_inside_a_function():
    importers = {path.name for path in (BASE_DIR / "emulator").glob("*.py")
                 if any(name.partition(".")[0] == "django" for name in imported_modules(path))}
    assert importers == set()


def test_the_portal_imports_the_emulator_only_in_its_command():
    bridge = BASE_DIR / "services" / "management" / "commands" / "eas_emulator.py"
    portal = [*(BASE_DIR / "services").rglob("*.py"), *(BASE_DIR / "easportal").rglob("*.py")]
    importers = {path for path in portal
                 if any(name.partition(".")[0] == "emulator" for name in imported_modules(path))}
    assert importers == {bridge}
