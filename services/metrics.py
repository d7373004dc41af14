"""The figures LLM serving is judged by, read from an answer: time to first token (TTFT), time
per output token (TPOT), token counts and the finish reason. Definitions as vLLM's benchmark
(docs/api.md, "Streaming"):

- TTFT: from the start of sending to the first server-sent event whose delta carries non-empty
  `content` or `reasoning_content`, or `tool_calls` (a role-only first chunk does not count);
  for a stream that is not OpenAI-shaped, to its first body byte.
- E2E: from the start of sending to the last such event.
- TPOT = (E2E - TTFT) / (completion_tokens - 1), when there is more than one token.
- Tokens: from the final `usage` chunk when there is one (source "usage"), else the count of
  content events (source "chunks", a lower bound).

Pure: no Django, no network. StreamMetrics is fed the pieces of a body as they arrive, with the
time each arrived; answer_metrics reads an answer that came whole.
"""

import codecs
import json
from dataclasses import dataclass
from typing import Any

# Larger answers are not parsed for their usage: the figures are not worth the time.
MAX_PARSED_BYTES = 1_048_576
DONE = "[DONE]"


@dataclass
class Figures:
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_source: str = ""  # "usage", "chunks" or ""
    finish_reason: str = ""

    @property
    def tokens_per_s(self) -> float | None:
        """Output tokens a second after the first: 1000 / TPOT."""
        return round(1000 / self.tpot_ms, 1) if self.tpot_ms else None


class EventParser:
    """Server-sent events from pieces of bytes: feed() returns the data of each event that a
    piece completed (its `data:` lines joined by newlines). Comments and other fields are
    skipped; lines may end in CRLF, LF or CR."""

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []
        self._pending_cr = False

    def feed(self, text: str) -> list[str]:
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = text.endswith("\r")
        lines = (self._buffer + text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop()
        events = []
        for line in lines:
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
                continue
            field, _, value = line.partition(":")
            if field == "data":
                self._data.append(value.removeprefix(" "))
        return events


def _usage(data: dict[str, Any], figures: Figures) -> bool:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return False
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt, int) and not isinstance(prompt, bool) and prompt >= 0:
        figures.prompt_tokens = prompt
    if isinstance(completion, int) and not isinstance(completion, bool) and completion >= 0:
        figures.completion_tokens = completion
        figures.tokens_source = "usage"
        return True
    return False


def _finish_reason(choices: list[Any], figures: Figures) -> None:
    for choice in choices:
        if isinstance(choice, dict) and isinstance(choice.get("finish_reason"), str):
            figures.finish_reason = choice["finish_reason"][:32]


def _carries_output(choice: Any) -> bool:
    if not isinstance(choice, dict):
        return False
    if isinstance(choice.get("text"), str) and choice["text"]:  # /v1/completions
        return True
    delta = choice.get("delta")
    if not isinstance(delta, dict):
        return False
    return any(isinstance(delta.get(key), str) and delta[key]
               for key in ("content", "reasoning_content")) or bool(delta.get("tool_calls"))


class StreamMetrics:
    """The figures of a body read piece by piece: feed(piece, at_ms) as each arrives, where
    at_ms is the time since the start of sending; figures() at the end."""

    def __init__(self) -> None:
        self._parser = EventParser()
        self._decoder = _Utf8()
        self._figures = Figures()
        self._first_byte_ms: float | None = None
        self._first_output_ms: float | None = None
        self._last_output_ms: float | None = None
        self._output_events = 0
        self._openai = False
        self._usage_seen = False

    def feed(self, piece: bytes, at_ms: float) -> None:
        if not piece:
            return
        if self._first_byte_ms is None:
            self._first_byte_ms = at_ms
        for data in self._parser.feed(self._decoder.decode(piece)):
            self._event(data, at_ms)

    def _event(self, data: str, at_ms: float) -> None:
        if data == DONE:
            return
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            return  # not JSON: relayed as it is, and counted for nothing
        if not isinstance(chunk, dict):
            return
        choices = chunk.get("choices")
        if isinstance(choices, list):
            self._openai = True
            if any(_carries_output(choice) for choice in choices):
                self._output_events += 1
                if self._first_output_ms is None:
                    self._first_output_ms = at_ms
                self._last_output_ms = at_ms
            _finish_reason(choices, self._figures)
        if _usage(chunk, self._figures):
            self._openai = True
            self._usage_seen = True

    def figures(self) -> Figures:
        figures = self._figures
        if not self._openai:
            return Figures(ttft_ms=_ms(self._first_byte_ms))
        if not self._usage_seen:
            figures.completion_tokens = self._output_events
            figures.tokens_source = "chunks"
        figures.ttft_ms = _ms(self._first_output_ms)
        tokens = figures.completion_tokens or 0
        if (self._first_output_ms is not None and self._last_output_ms is not None
                and tokens > 1):
            figures.tpot_ms = _ms((self._last_output_ms - self._first_output_ms) / (tokens - 1))
        return figures


def answer_metrics(body: bytes, content_type: str) -> Figures:
    """Tokens and finish reason of an answer that came whole: an OpenAI JSON answer, or a whole
    stream of events (TTFT and TPOT need the arrival times, which it does not have)."""
    if not body or len(body) > MAX_PARSED_BYTES:
        return Figures()
    if "event-stream" in content_type:
        metrics = StreamMetrics()
        metrics.feed(body, 0.0)
        figures = metrics.figures()
        figures.ttft_ms = figures.tpot_ms = None
        return figures
    if "json" not in content_type or b'"choices"' not in body:
        return Figures()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return Figures()
    figures = Figures()
    if isinstance(data, dict) and isinstance(data.get("choices"), list):
        _usage(data, figures)
        _finish_reason(data["choices"], figures)
    return figures


def assembled_text(body: bytes) -> tuple[str, str] | None:
    """(reasoning, content) of an OpenAI-shaped stream of events, each delta's text joined;
    None when no event is an OpenAI chunk (the body is then shown as it is)."""
    if len(body) > MAX_PARSED_BYTES:
        return None
    reasoning: list[str] = []
    content: list[str] = []
    openai = False
    for data in EventParser().feed(body.decode("utf-8", errors="replace") + "\n\n"):
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            continue
        if not isinstance(chunk, dict) or not isinstance(chunk.get("choices"), list):
            continue
        openai = True
        for choice in chunk["choices"]:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            delta = delta if isinstance(delta, dict) else {}
            for parts, value in ((content, choice.get("text")), (content, delta.get("content")),
                                 (reasoning, delta.get("reasoning_content"))):
                if isinstance(value, str):
                    parts.append(value)
    return ("".join(reasoning), "".join(content)) if openai else None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class _Utf8:
    """Text from pieces that may split a character; bytes that are not UTF-8 become U+FFFD,
    which no event's JSON needs."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def decode(self, piece: bytes) -> str:
        return str(self._decoder.decode(piece))
