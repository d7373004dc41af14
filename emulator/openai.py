"""The model routes: OpenAI-compatible /v1/models, /v1/chat/completions, /v1/completions and
/v1/embeddings, and vLLM's /v1/rerank. Answers are deterministic; a chat answer is "You said: "
+ the last user message, one word per streamed chunk. See docs/emulator.md."""

import base64
import hashlib
import json
import re
import struct
import time

from emulator.replies import Refusal, openai_error, reply_json


def words(text):
    return re.findall(r"\w+", text.lower())


def as_text(content):
    # OpenAI content is a string or a list of parts such as {"type": "text", "text": ...}.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def usage(prompt, completion):
    prompt_tokens, completion_tokens = len(prompt.split()), len(completion.split())
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def completion_id(prefix, body):
    return prefix + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:24]


def event_stream(events):
    for event in events:
        yield b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def streamed(request, data, kind, text, totals):
    """A reply as server-sent events: one chunk per word, then the stop, then usage if asked."""
    base = {"id": completion_id("chatcmpl-" if kind == "chat" else "cmpl-", request.body),
            "object": "chat.completion.chunk" if kind == "chat" else "text_completion",
            "created": int(time.time()), "model": data.get("model") or request.service["model"]}

    def choice(piece, finish_reason=None):
        if kind != "chat":
            return {"index": 0, "text": piece or "", "logprobs": None,
                    "finish_reason": finish_reason}
        delta = {"content": piece} if piece is not None else {}
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

    events = []
    if kind == "chat":
        events.append({**base, "choices": [{**choice(""), "delta": {"role": "assistant",
                                                                     "content": ""}}]})
    events += [{**base, "choices": [choice(piece)]}
               for piece in re.split(r"(?<=\s)(?=\S)", text)]
    events.append({**base, "choices": [choice(None, "stop")]})
    if (data.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": totals})
    return 200, [("Content-Type", "text/event-stream; charset=utf-8"),
                 ("Cache-Control", "no-cache")], event_stream(events)


def chat(request):
    data = request.json()
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(message, dict) for message in messages):
        raise Refusal(openai_error("'messages' must be a non-empty list of messages.",
                                   "messages"))
    said = next((as_text(m.get("content")) for m in reversed(messages)
                 if m.get("role") == "user"), "")
    text = f"You said: {said}"
    totals = usage(" ".join(as_text(m.get("content")) for m in messages), text)
    if data.get("stream"):
        return streamed(request, data, "chat", text, totals)
    return reply_json(200, {
        "id": completion_id("chatcmpl-", request.body), "object": "chat.completion",
        "created": int(time.time()), "model": data.get("model") or request.service["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": totals,
    })


def completions(request):
    data = request.json()
    prompt = data.get("prompt")
    if isinstance(prompt, list) and all(isinstance(item, str) for item in prompt):
        prompt = " ".join(prompt)
    if not isinstance(prompt, str):
        raise Refusal(openai_error("'prompt' must be a string or a list of strings.", "prompt"))
    text = f"You wrote: {prompt}"
    totals = usage(prompt, text)
    if data.get("stream"):
        return streamed(request, data, "completion", text, totals)
    return reply_json(200, {
        "id": completion_id("cmpl-", request.body), "object": "text_completion",
        "created": int(time.time()), "model": data.get("model") or request.service["model"],
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
        "usage": totals,
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
        raise Refusal(openai_error("'input' must be a string or a list of strings.", "input"))
    items = []
    for index, text in enumerate(inputs):
        vector = vector_of(text)
        if data.get("encoding_format") == "base64":  # the OpenAI SDK asks for this by default
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        items.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(len(text.split()) for text in inputs)
    return reply_json(200, {"object": "list", "data": items,
                            "model": data.get("model") or request.service["model"],
                            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def rerank(request):
    data = request.json()
    query, documents, top_n = data.get("query"), data.get("documents"), data.get("top_n")
    if not isinstance(query, str) or not isinstance(documents, list):
        raise Refusal(openai_error("Send 'query' (a string) and 'documents' (a list)."))
    texts = [doc.get("text") if isinstance(doc, dict) else doc for doc in documents]
    if not all(isinstance(text, str) for text in texts):
        raise Refusal(openai_error("Each document must be a string or {\"text\": ...}.",
                                   "documents"))
    if top_n is not None and (not isinstance(top_n, int) or top_n < 0):
        raise Refusal(openai_error("'top_n' must be a whole number.", "top_n"))
    asked = set(words(query))
    results = [{"index": index,
                "relevance_score": round(len(asked & set(words(text))) / (len(asked) or 1), 6)}
               for index, text in enumerate(texts)]
    results.sort(key=lambda result: -result["relevance_score"])  # stable: ties keep order
    results = results[:top_n] if top_n is not None else results
    if data.get("return_documents", True):
        for result in results:
            result["document"] = {"text": texts[result["index"]]}
    tokens = len(query.split()) + sum(len(text.split()) for text in texts)
    return reply_json(200, {"id": completion_id("rerank-", request.body),
                            "model": data.get("model") or request.service["model"],
                            "results": results, "usage": {"total_tokens": tokens}})


def models(request):
    return reply_json(200, {"object": "list", "data": [
        {"id": request.service["model"], "object": "model", "created": 0,
         "owned_by": "eas-emulator"}]})
