"""The model routes: OpenAI-compatible /v1/models, /v1/chat/completions, /v1/completions and
/v1/embeddings, and vLLM's /v1/rerank. Answers are deterministic; a chat answer is "You said: "
+ the last user message, one word per token. Streamed answers go at a pace (tokens per second:
the server's default, or the X-Emulator-Tokens-Per-S header), stop at max_tokens, may think
first (reasoning_content) and may break off midway (X-Emulator-Break-After). See
docs/emulator.md."""

import base64
import hashlib
import json
import re
import struct
import time

from emulator.config import ConfigError, check_pace
from emulator.replies import Refusal, openai_error, reply_json
from emulator.watch import Broken

# What a reasoning answer thinks before it answers: 9 words, so 9 reasoning tokens.
REASONING = "Thinking it over: the user wants their words back."
PACE_HEADER = "X-Emulator-Tokens-Per-S"
REASONING_HEADER = "X-Emulator-Reasoning"
BREAK_HEADER = "X-Emulator-Break-After"
SWITCHES = {"1": True, "true": True, "yes": True, "on": True,
            "0": False, "false": False, "no": False, "off": False}


def words(text):
    return re.findall(r"\w+", text.lower())


def tokens(text):
    """The text's tokens: its words, each with the whitespace after it."""
    return re.findall(r"\S+\s*", text)


def as_text(content):
    # OpenAI content is a string or a list of parts such as {"type": "text", "text": ...}.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def completion_id(prefix, body):
    return prefix + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:24]


def refuse(message, param=None):
    return Refusal(openai_error(message, param))


class Options:
    """How to answer this request, from its body and X-Emulator-* headers; a bad value is
    refused with a 400 that says which and why."""

    def __init__(self, request, data, kind):
        headers = request.headers
        self.stream = bool(data.get("stream"))
        self.include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
        try:
            self.pace = check_pace(headers.get(PACE_HEADER, request.tokens_per_s), PACE_HEADER)
        except ConfigError as exc:
            raise refuse(str(exc)) from None
        switch = headers.get(REASONING_HEADER, "").strip().lower()
        if switch and switch not in SWITCHES:
            raise refuse(f"{REASONING_HEADER}: expected 1 or 0, not "
                         f"{headers[REASONING_HEADER]!r}.")
        wanted = SWITCHES[switch] if switch else request.service.get("reasoning", False)
        self.reasoning = kind == "chat" and wanted
        breaks = headers.get(BREAK_HEADER)
        if breaks is not None and not re.fullmatch(r"[0-9]{1,9}", breaks.strip()):
            raise refuse(f"{BREAK_HEADER}: expected a whole number of chunks, not {breaks!r}.")
        self.break_after = int(breaks) if breaks is not None else None
        # The newer OpenAI name first, as vLLM reads them.
        param = "max_completion_tokens" if "max_completion_tokens" in data else "max_tokens"
        limit = data.get(param)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                                  or limit < 1):
            raise refuse(f"'{param}' must be a whole number, 1 or more.", param)
        self.limit = limit


class Answer:
    """The tokens of an answer, reasoning first, cut to the limit, and their usage."""

    def __init__(self, prompt, text, options):
        thought = tokens(REASONING) if options.reasoning else []
        said = tokens(text)
        limit = options.limit or len(thought) + len(said)
        self.thought = thought[:limit]
        self.said = said[:max(0, limit - len(thought))]
        self.finish_reason = "length" if limit < len(thought) + len(said) else "stop"
        self.reasoning, self.text = "".join(self.thought), "".join(self.said)
        prompt_tokens = len(prompt.split())
        # Reasoning tokens count as completion tokens, as DeepSeek and vLLM count them.
        completion_tokens = len(self.thought) + len(self.said)
        self.usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}
        if options.reasoning:
            self.usage["completion_tokens_details"] = {"reasoning_tokens": len(self.thought)}


def event(data):
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def streamed(request, data, kind, answer, options):
    """A reply as server-sent events: (chat: the role at once), one chunk per token at the
    pace, the finish, usage if asked, [DONE]."""
    base = {"id": completion_id("chatcmpl-" if kind == "chat" else "cmpl-", request.body),
            "object": "chat.completion.chunk" if kind == "chat" else "text_completion",
            "created": int(time.time()), "model": data.get("model") or request.service["model"]}

    def chunk(delta=None, finish_reason=None):
        if kind == "chat":
            choice = {"index": 0, "delta": delta or {}}
        else:
            choice = {"index": 0, "text": (delta or {}).get("content", "")}
        return event({**base, "choices": [{**choice, "logprobs": None,
                                           "finish_reason": finish_reason}]})

    pieces = ([("reasoning_content", piece) for piece in answer.thought]
              + [("content", piece) for piece in answer.said])
    gap = 1 / options.pace if options.pace else 0.0

    def events():
        started, content_sent = time.monotonic(), 0
        if kind == "chat":
            yield chunk({"role": "assistant", "content": ""})
        for count, (field, piece) in enumerate(pieces, 1):
            if field == "content" and content_sent == options.break_after:
                raise Broken
            # The n-th token is due n gaps after the start, however late the last one went.
            if not request.watch.wait_until(started + count * gap):
                return
            yield chunk({field: piece})
            content_sent += field == "content"
        if options.break_after is not None:
            raise Broken
        yield chunk(finish_reason=answer.finish_reason)
        if options.include_usage:
            yield event({**base, "choices": [], "usage": answer.usage})
        yield b"data: [DONE]\n\n"

    return 200, [("Content-Type", "text/event-stream; charset=utf-8"),
                 ("Cache-Control", "no-cache")], events()


def chat(request):
    data = request.json()
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(message, dict) for message in messages):
        raise refuse("'messages' must be a non-empty list of messages.", "messages")
    options = Options(request, data, "chat")
    said = next((as_text(m.get("content")) for m in reversed(messages)
                 if m.get("role") == "user"), "")
    prompt = " ".join(as_text(m.get("content")) for m in messages)
    answer = Answer(prompt, f"You said: {said}", options)
    if options.stream:
        return streamed(request, data, "chat", answer, options)
    message = {"role": "assistant", "content": answer.text}
    if options.reasoning:
        message["reasoning_content"] = answer.reasoning
    return reply_json(200, {
        "id": completion_id("chatcmpl-", request.body), "object": "chat.completion",
        "created": int(time.time()), "model": data.get("model") or request.service["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": answer.finish_reason}],
        "usage": answer.usage,
    })


def completions(request):
    data = request.json()
    prompt = data.get("prompt")
    if isinstance(prompt, list) and all(isinstance(item, str) for item in prompt):
        prompt = " ".join(prompt)
    if not isinstance(prompt, str):
        raise refuse("'prompt' must be a string or a list of strings.", "prompt")
    options = Options(request, data, "completion")
    answer = Answer(prompt, f"You wrote: {prompt}", options)
    if options.stream:
        return streamed(request, data, "completion", answer, options)
    return reply_json(200, {
        "id": completion_id("cmpl-", request.body), "object": "text_completion",
        "created": int(time.time()), "model": data.get("model") or request.service["model"],
        "choices": [{"index": 0, "text": answer.text, "logprobs": None,
                     "finish_reason": answer.finish_reason}],
        "usage": answer.usage,
    })


def vector_of(text):
    digest = hashlib.sha256(text.encode()).digest()
    return [round((byte - 127.5) / 127.5, 6) for byte in digest[:8]]


def embeddings(request):
    data = request.json()
    inputs = data.get("input")
    inputs = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(inputs, list) or not inputs or not all(
            isinstance(item, str) for item in inputs):
        raise refuse("'input' must be a string or a list of strings.", "input")
    items = []
    for index, text in enumerate(inputs):
        vector = vector_of(text)
        if data.get("encoding_format") == "base64":  # the OpenAI SDK asks for this by default
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        items.append({"object": "embedding", "index": index, "embedding": vector})
    count = sum(len(text.split()) for text in inputs)
    return reply_json(200, {"object": "list", "data": items,
                            "model": data.get("model") or request.service["model"],
                            "usage": {"prompt_tokens": count, "total_tokens": count}})


def rerank(request):
    data = request.json()
    query, documents, top_n = data.get("query"), data.get("documents"), data.get("top_n")
    if not isinstance(query, str) or not isinstance(documents, list):
        raise refuse("Send 'query' (a string) and 'documents' (a list).")
    texts = [doc.get("text") if isinstance(doc, dict) else doc for doc in documents]
    if not all(isinstance(text, str) for text in texts):
        raise refuse("Each document must be a string or {\"text\": ...}.", "documents")
    if top_n is not None and (not isinstance(top_n, int) or top_n < 0):
        raise refuse("'top_n' must be a whole number.", "top_n")
    asked = set(words(query))
    results = [{"index": index,
                "relevance_score": round(len(asked & set(words(text))) / (len(asked) or 1), 6)}
               for index, text in enumerate(texts)]
    results.sort(key=lambda result: -result["relevance_score"])  # stable: ties keep order
    results = results[:top_n] if top_n is not None else results
    if data.get("return_documents", True):
        for result in results:
            result["document"] = {"text": texts[result["index"]]}
    count = len(query.split()) + sum(len(text.split()) for text in texts)
    return reply_json(200, {"id": completion_id("rerank-", request.body),
                            "model": data.get("model") or request.service["model"],
                            "results": results, "usage": {"total_tokens": count}})


def models(request):
    return reply_json(200, {"object": "list", "data": [
        {"id": request.service["model"], "object": "model", "created": 0,
         "owned_by": "eas-emulator"}]})
