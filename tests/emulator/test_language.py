"""Issue 15: the emulator's gateway refusals in the caller's language (docs/emulator.md)."""

import pytest

import emulator as eas_emulator
from tests.emulator.test_routes import send


@pytest.mark.parametrize("path, token, status, chinese", [
    ("/v1/chat", None, 404, "未找到：/api/predict/demo-chat/v1/chat 没有对应的接口"),
    ("/v1/models", "wrong", 401, "鉴权失败：Token 不正确。"),
    ("/v1/chat/completions", None, 405, "不支持该方法：/v1/chat/completions 只接受 POST。"),
])
def test_its_refusals_follow_accept_language(emulator, path, token, status, chinese):
    """Issue 15: the gateway's refusals in Simplified Chinese for a Chinese Accept-Language,
    in English for an English one or none (the emulator's environment here is not Chinese)."""
    answers = [send(emulator, "GET", path, service="demo-chat", token=token,
                    headers={"Accept-Language": language} if language else {})
               for language in ("zh-CN,zh;q=0.9,en;q=0.8", "en-US,en;q=0.9,zh;q=0.8", None)]
    assert [answer[0] for answer in answers] == [status] * 3
    chinese_body, english, plain = (answer[2].decode() for answer in answers)
    assert chinese in chinese_body and english == plain and chinese not in english


def test_its_own_language_comes_from_its_environment(monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert eas_emulator.make_app().language == "zh-hans"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    assert eas_emulator.make_app().language == "en"
