"""A local stand-in for a PAI-EAS gateway and the model services behind it, for development
and tests. Plain Python on waitress: nothing here imports Django, so it runs without the portal
(`python -m emulator`) and in a thread of the test suite. The contract is docs/emulator.md.

Every service is served under /api/predict/<service> and checks its token the three ways real
clients send it: raw (`Authorization: <token>`, curl and requests), `Bearer <token>` (OpenAI
SDKs) and signed `EAS <signature>` (Alibaba's eas-prediction SDK). Every service answers every
route below; a service's kind only says how the portal seeds it.

    POST /                      a string-in, string-out processor ("processed: " + body)
    GET  /v1/models, POST /v1/chat/completions, /v1/completions, /v1/embeddings
                                OpenAI-compatible, deterministic, with usage, max_tokens,
                                reasoning (chat) and streaming at a pace (--tokens-per-s,
                                X-Emulator-Tokens-Per-S), breaking off on request
                                (X-Emulator-Break-After)
    POST /v1/rerank             {"query", "documents", "top_n"?}: word-overlap scores
    ANY  /echo, /echo/...       what arrived, as JSON (raw path and query kept)
    ANY  /slow?seconds=N        answers after N seconds (at most 120)
    ANY  /flaky?every=K&key=X   503 on every K-th request of key X (counted per process), else
                                200: a known share of errors

Fault routes, for testing an HTTP client (limits, decompression, deadlines, redirects):

    ANY  /status/<code>         that status, with a small JSON body
    ANY  /large?bytes=N         N bytes, streamed, with Content-Length (&break_after=M: the
                                connection drops after M of them)
    ANY  /gzip?bytes=N          gzip that decompresses to N zero bytes; small on the wire
    ANY  /trickle?seconds=N     one byte about every 0.2 s for N seconds (&length=1: with
                                Content-Length, not chunked)
    ANY  /redirect?to=URL&status=302

Outside /api/predict, one control route for tests and benchmarks in another process:
GET /__emulator__/received?last=N, the last records of app.received without headers and
bodies, with when each started, finished, or its client went away.

The modules: config (services, config files, the demo set in demo.json), app (the WSGI app:
gateway checks, the record of what arrived, the control route), replies (Request and replies),
routes, openai (the model routes), watch (whether the client is still there), server (waitress,
in the foreground or a thread) and cli (the command line).
"""

from emulator.app import (
    GATEWAY_LIMIT,
    Emulator,
    Received,
    canonical,
    make_app,
    most_at_once,
    read_body,
)
from emulator.cli import StartError, main
from emulator.config import (
    DEMO_CONFIG,
    DEMO_SERVICES,
    KINDS,
    ConfigError,
    check_services,
    load_config,
)
from emulator.server import DEFAULT_THREADS, make_server, start_in_thread, stop

__all__ = [
    "DEFAULT_THREADS", "DEMO_CONFIG", "DEMO_SERVICES", "GATEWAY_LIMIT", "KINDS", "ConfigError",
    "Emulator", "Received", "StartError", "canonical", "check_services", "load_config", "main",
    "make_app", "make_server", "most_at_once", "read_body", "start_in_thread", "stop",
]
