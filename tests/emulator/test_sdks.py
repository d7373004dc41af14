"""Real clients against the emulator: Alibaba's eas-prediction SDK, the OpenAI SDK, and the
eas_emulator command run as its own process."""

import base64
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import urllib.request
import warnings
from datetime import datetime

import openai
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.helpers import free_port, predict_client, wait_for_port

with warnings.catch_warnings():
    # Its generated protobuf modules call descriptor functions that protobuf deprecates.
    warnings.simplefilter("ignore", DeprecationWarning)
    from eas_prediction import PredictException, StringRequest


def test_the_eas_sdk_signs_its_requests_and_gets_through(emulator, emulator_received):
    token = emulator.token("eas-style")
    # The SDK wants host:port without a scheme; it puts http:// in front itself.
    with predict_client(f"127.0.0.1:{emulator.port}", "eas-style", token) as client:
        response = client.predict(StringRequest("hello from the SDK"))
    assert response.response_data == b"processed: hello from the SDK"

    arrived = emulator_received[-1]
    headers = arrived["headers"]
    assert (arrived["method"], arrived["path"], arrived["status"]) == (
        "POST", "/api/predict/eas-style", 200)
    assert headers["Content-Md5"] == hashlib.md5(b"hello from the SDK").hexdigest()
    assert headers["Content-Type"] == "application/octet-stream"
    datetime.strptime(headers["Date"], "%a, %d %b %Y %H:%M:%S GMT")
    # The signature is exactly the documented one: base64 HMAC-SHA1 over five lines.
    message = "\n".join(["POST", headers["Content-Md5"], headers["Content-Type"],
                         headers["Date"], "/api/predict/eas-style"])
    expected = base64.b64encode(hmac.new(token.encode(), message.encode(), "sha1").digest())
    assert headers["Authorization"] == "EAS " + expected.decode()


def test_the_eas_sdk_is_refused_with_a_wrong_token(emulator):
    with predict_client(f"127.0.0.1:{emulator.port}", "demo-echo", "not-the-token") as client, \
            pytest.raises(PredictException) as refused:
        client.predict(StringRequest("hello"))
    assert refused.value.code == 401
    assert b"EAS signature does not match" in refused.value.message


def test_the_eas_sdk_sends_the_raw_token_to_a_custom_url(emulator, emulator_received):
    token = emulator.token("demo-echo")
    url = emulator.base("demo-echo") + "/echo/custom"
    with predict_client(emulator.url, "demo-echo", token, custom_url=url) as client:
        response = client.predict(StringRequest("über"))
    echoed = json.loads(response.response_data)
    assert echoed["path"] == "/api/predict/demo-echo/echo/custom"
    assert echoed["headers"]["Authorization"] == token
    assert "Content-Md5" not in echoed["headers"]
    assert echoed["body"] == "über"


def openai_client(emulator, service="demo-chat", api_key=None):
    return openai.OpenAI(base_url=emulator.base(service) + "/v1", timeout=30, max_retries=0,
                         api_key=api_key or emulator.token(service))


HELLO = [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "hello!"}]


def test_the_openai_sdk_completes_a_chat(emulator, emulator_received):
    completion = openai_client(emulator).chat.completions.create(model="Qwen3-8B",
                                                                 messages=HELLO)
    assert completion.choices[0].message.content == "You said: hello!"
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens,
            completion.usage.total_tokens) == (6, 3, 9)
    assert emulator_received[-1]["headers"]["Authorization"] == "Bearer demo-chat-token-0001"
    assert emulator_received[-1]["path"] == "/api/predict/demo-chat/v1/chat/completions"


def test_the_openai_sdk_streams_a_chat(emulator):
    stream = openai_client(emulator).chat.completions.create(
        model="Qwen3-8B", messages=HELLO, stream=True, stream_options={"include_usage": True})
    pieces, usage = [], None
    for chunk in stream:
        pieces += [choice.delta.content or "" for choice in chunk.choices]
        usage = chunk.usage or usage
    assert "".join(pieces) == "You said: hello!"
    assert len(pieces) > 2  # word by word, not in one piece
    assert usage.total_tokens == 9


def test_the_openai_sdk_lists_models_and_embeds(emulator):
    client = openai_client(emulator)
    assert [model.id for model in client.models.list()] == ["Qwen3-8B"]
    # The SDK asks for base64 and decodes it itself.
    first, second = client.embeddings.create(model="Qwen3-8B", input=["a", "a"]).data
    assert len(first.embedding) == 8
    assert first.embedding == second.embedding


def test_the_openai_sdk_reports_a_wrong_key(emulator):
    with pytest.raises(openai.AuthenticationError):
        openai_client(emulator, api_key="not-the-token").models.list()


def echo_when_up(url, token, port, process):
    """What the echo route at url answers to "ping", once the process listens on port."""
    wait_for_port(port, process)
    request = urllib.request.Request(url, data=b"ping", headers={"Authorization": token})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("config", [None, {"services": {"from-file": {"token": "file-token"}}}])
def test_the_eas_emulator_command_serves(tmp_path, config):
    port = free_port()
    command = [sys.executable, "manage.py", "eas_emulator", "--port", str(port)]
    service, token = "demo-echo", "demo-echo-token-0001"
    if config:
        (tmp_path / "services.json").write_text(json.dumps(config))
        command += ["--config", str(tmp_path / "services.json")]
        service, token = "from-file", "file-token"
    # os.environ holds what tests/settings.py set: the process starts like the suite did.
    process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=os.environ, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/api/predict/{service}/echo"
        echoed = echo_when_up(url, token, port, process)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert (echoed["body"], echoed["path"]) == ("ping", f"/api/predict/{service}/echo"), err
    assert f"http://127.0.0.1:{port}/api/predict/<service>" in out
    assert service in out


def test_the_eas_emulator_command_refuses_a_bad_config(tmp_path):
    path = tmp_path / "services.json"
    path.write_text('{"services": {"chat": {"token": ""}}}')
    with pytest.raises(CommandError, match="chat.token: expected a non-empty"):
        call_command("eas_emulator", config=str(path), port=free_port(), stdout=io.StringIO())


def test_the_eas_emulator_command_takes_the_pace_and_threads():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "eas_emulator", "--port", str(port), "--tokens-per-s",
         "20", "--threads", "8"], cwd=settings.BASE_DIR, env=os.environ, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        echo_when_up(f"http://127.0.0.1:{port}/api/predict/demo-echo/echo",
                     "demo-echo-token-0001", port, process)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert "streaming 20 tokens/s" in out, err
