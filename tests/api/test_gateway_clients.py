"""The gateway with the clients people use, unchanged, over real HTTP to the live portal and on
to the emulator: the OpenAI SDK (whole and streamed answers), curl with the raw key, and
Alibaba's eas-prediction SDK with custom_url; and the keys' rate limit kept by two processes
at once, in the database and in Redis."""

import json
import os
import subprocess
import sys
import time
import warnings

import openai
import pytest
from django.db import connection

from services import keys
from services.models import Call
from tests.helpers import BASE_DIR, predict_client

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello from the SDK"}]


@pytest.fixture
def key(bob):
    return keys.make(bob, "sdk", None)[1]


@pytest.fixture
def chat(acme, emulator):
    return emulator.service(acme, "demo-chat", slug="chat")


def recorded():
    """The one call, once recorded: a relayed stream is recorded as its end has gone out,
    which can be just after the client has read what it needed."""
    started = time.monotonic()
    while not Call.objects.exists():
        assert time.monotonic() - started < 5, "the call was not recorded"
        time.sleep(0.02)
    return Call.objects.get()


def sdk(live_server, key, slug="chat"):
    return openai.OpenAI(base_url=f"{live_server.url}/gw/{slug}/v1", api_key=key, timeout=30,
                         max_retries=0)


def test_the_openai_sdk_works_through_the_gateway(live_server, chat, key, emulator_received):
    answer = sdk(live_server, key).chat.completions.create(model="m", messages=HELLO)
    assert answer.choices[0].message.content == "You said: hello from the SDK"
    assert answer.usage.completion_tokens == 6
    arrived = emulator_received[-1]
    assert arrived["headers"]["Authorization"] == chat.read_token()
    assert key not in json.dumps(arrived["headers"])
    call = Call.objects.get()
    assert (call.source, call.username, call.completion_tokens) == ("gateway", "bob", 6)


def test_the_openai_sdk_streams_through_the_gateway(live_server, chat, key):
    chunks = sdk(live_server, key).chat.completions.create(
        model="m", messages=HELLO, stream=True, stream_options={"include_usage": True})
    text, usage = "", None
    for chunk in chunks:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        usage = chunk.usage or usage
    assert text == "You said: hello from the SDK" and usage.completion_tokens == 6
    call = recorded()
    assert (call.streamed, call.tokens_source, call.completion_tokens) == (True, "usage", 6)


def test_the_openai_sdk_shows_the_portals_refusal(live_server, chat, key):
    with pytest.raises(openai.NotFoundError) as refused:
        sdk(live_server, key, slug="no-such").models.list()
    assert "There is no service" in refused.value.message
    with pytest.raises(openai.AuthenticationError) as refused:
        sdk(live_server, "eap_" + "0" * 40).models.list()
    assert "unknown, revoked or expired" in refused.value.message


def test_curl_with_the_raw_key(live_server, acme, key, emulator):
    emulator.service(acme, "demo-echo", slug="echo")
    result = subprocess.run(
        ["curl", "--silent", "--show-error", "--fail", "-H", f"Authorization: {key}",
         "-H", "Content-Type: application/json", "--data-raw", '{"x": 1}',
         f"{live_server.url}/gw/echo/echo?from=curl"],
        capture_output=True, text=True, timeout=30, check=True)
    echoed = json.loads(result.stdout)
    assert (echoed["body"], echoed["query"]) == ('{"x": 1}', "from=curl")
    assert echoed["headers"]["Authorization"] == "[redacted]"  # the service's token, taken out


def test_eas_prediction_with_custom_url(live_server, acme, key, emulator, emulator_received):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its generated protobuf modules
        from eas_prediction import StringRequest

    echo = emulator.service(acme, "demo-echo", slug="echo")
    url = f"{live_server.url}/gw/echo/echo/custom"
    with predict_client(live_server.url, "echo", key, custom_url=url) as client:
        response = client.predict(StringRequest("über"))
    echoed = json.loads(response.response_data)
    assert echoed["body"] == "über"
    assert emulator_received[-1]["headers"]["Authorization"] == echo.read_token()


# The rate limit, kept by two processes at once

COUNTER = """
import django, sys
django.setup()
from services import keys
from services.errors import Refusal
passed = refused = 0
for _ in range(int(sys.argv[2])):
    try:
        keys.authenticate(sys.argv[1])
        passed += 1
    except Refusal as exc:
        assert exc.status == 429, exc.status
        refused += 1
print(passed, refused)
"""


def two_processes_count(key, requests_each, **env):
    """(passed, refused) of two processes that each present the key requests_each times."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        database = f"sqlite:///{settings_dict['NAME']}"
    else:
        database = (f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
                    f"{settings_dict['PORT']}/{settings_dict['NAME']}")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "easportal.settings",
                   "DATABASE_URL": database, **env}
    if time.time() % 60 > 50:  # both within one minute's window
        time.sleep(61 - time.time() % 60)
    processes = [subprocess.Popen([sys.executable, "-c", COUNTER, key, str(requests_each)],
                                  cwd=BASE_DIR, env=environment, stdout=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0].split() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    return (sum(int(passed) for passed, _refused in outputs),
            sum(int(refused) for _passed, refused in outputs))


def test_the_rate_limit_holds_across_two_processes_in_the_database(key):
    assert two_processes_count(key, 40, EASPORTAL_KEY_RATE_PER_MIN="50") == (50, 30)


def test_the_rate_limit_holds_across_two_processes_in_redis(key):
    redis = pytest.importorskip("redis").Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        redis.ping()
    except Exception:
        pytest.fail("Redis is expected on 127.0.0.1:6379, as on this project's machines")
    redis.flushdb()
    try:
        assert two_processes_count(key, 40, EASPORTAL_KEY_RATE_PER_MIN="50",
                                   REDIS_URL="redis://127.0.0.1:6379/15") == (50, 30)
        assert redis.keys("easportal:key-rate:*")
    finally:
        redis.flushdb()
