"""The requests every snippet target is proven with (tests/snippets/test_run.py): each case is
sent by the portal, then by each target that offers it, and what the emulator received is
compared. `targets` is the availability each case must have (test_the_availability_matrix).
`answer` is, for a streamed case, the text the streamed answer adds up to: each snippet's output
must show it."""

import os
import tempfile
from dataclasses import dataclass

ALL = ("curl", "python", "httpie", "fetch", "openai", "eas_sdk")
NOT_OPENAI = ("curl", "python", "httpie", "fetch", "eas_sdk")
NO_BODY_TARGETS = ("curl", "python", "httpie", "fetch")  # a request eas-prediction cannot send
# A snippet that ran a command substitution would create this file.
MARKER = os.path.join(tempfile.gettempdir(), "easportal-snippet-marker")
TOUCH = f"$(touch {MARKER}) `touch {MARKER}`"
MAX_ARG_BYTES = 128 * 1024 - 1


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes = b""
    method: str = "POST"
    path: str = "/echo"
    headers: dict | None = None  # None: the portal's default, Content-Type: application/json
    service: str = "demo-echo"  # the emulator's service, whose token the portal's service has
    kind: str = "custom"
    targets: tuple = NOT_OPENAI
    answer: str = ""  # a streamed case's answer, as the emulator's chunks add up to it

    def __str__(self):
        return self.name


def _large_text():
    # Every character the shell, printf or a literal could take for something else.
    piece = ("line 'single' \"double\" $HOME ${EAS_TOKEN} `date` $(date) \\ \\\\ %s %% %n "
             "! * ? [a] {b} ~ # & | ; < > 中文 😀\n\t")
    text = piece * (900_000 // len(piece.encode()) + 1)
    return text.encode()[:900_000]


def _chat(content='"hello!"', **extra):
    messages = ('[{"role": "system", "content": "You are a helpful assistant."}, '
                f'{{"role": "user", "content": {content}}}]')
    fields = "".join(f', "{key}": {value}' for key, value in extra.items())
    return f'{{"model": "Qwen3-8B", "messages": {messages}{fields}}}'.encode()


TEXT = {"Content-Type": "text/plain"}

CORPUS = [
    Case("json", b'{"prompt": "hello", "n": 1}'),
    Case("quotes", b'{"text": "it\'s \\"double\\" and \'single\'"}',
         headers={"Content-Type": "application/json", "X-Quote": "it's \"quoted\" 'twice'"}),
    Case("shell-expansion", f"$HOME ${{EAS_TOKEN}} $PATH {TOUCH} !! ~ * ; | && >x".encode(),
         headers={**TEXT, "X-Shell": f"{TOUCH} $HOME ${{EAS_TOKEN}}"}),
    Case("backslashes", rb"C:\new\table \\ \x41 \101 \u0041 %s %% %n \' \" \\",
         headers={**TEXT, "X-Path": r"C:\dir\file \\share\ end\\"}),
    Case("newlines-and-tabs", b"line one\nline two\n\tindented\n\n", headers=TEXT),
    Case("carriage-returns-and-controls",
         "CRLF\r\nescape \x1b[31m DEL \x7f NEL \x85 LS \u2028 end".encode(), headers=TEXT),
    Case("at-file", b"@/etc/passwd",
         headers={**TEXT, "X-File": "@/etc/passwd", "X-Eq": "=json:=x", "X-Semi": ";x;"}),
    Case("chinese-and-emoji", '{"text": "你好，世界 👋🏽 🇨🇳 é"}'.encode()),
    Case("large-900k", _large_text(), headers=TEXT),
    # The longest body curl may take as an argument: one byte more goes through stdin.
    Case("longest-argument", b"x" * MAX_ARG_BYTES, headers=TEXT),
    Case("binary", bytes(range(256)) * 3 + b"\x00-",
         headers={"Content-Type": "application/octet-stream"}),
    Case("empty-post"),
    Case("get-without-body", method="GET", targets=NO_BODY_TARGETS),
    Case("query", b"q", path="/echo?q=a b&and=1&eq=x=y&pct=%20&arr[]=[1]&pipe=a|b&brace={}"
                             "&lower=%2f&tilde=%7e&empty="),
    Case("query-with-quote", b"q", path="/echo/it's?name=o'brien",
         targets=("curl", "python", "httpie", "eas_sdk")),
    Case("no-content-type", b"plain text, no type", headers={},
         targets=NO_BODY_TARGETS),
    Case("latin-1-header", b"{}",
         headers={"Content-Type": "application/json", "X-Name": "Café Zoë"},
         targets=("python", "fetch", "eas_sdk")),
    Case("empty-header-value", b"x", headers={**TEXT, "X-Empty": ""}),
    Case("header-backslash-before-separator", b"x",
         headers={**TEXT, "X-Odd": r"a\:b \= c\@d\;"},
         targets=("curl", "python", "fetch", "eas_sdk")),
    Case("head", method="HEAD", headers={"X-Head": "1"}, targets=NO_BODY_TARGETS),
    Case("delete-with-body", b'{"id": 7}', method="DELETE", targets=NO_BODY_TARGETS),
    Case("get-with-body", b'{"q": 1}', method="GET", targets=("curl", "python", "httpie")),
    Case("patch", b'{"n": 2}', method="PATCH", targets=NO_BODY_TARGETS),
    Case("trailing-slash", b"x", path="/echo/"),
    Case("eas-style-token", b'{"x": 1}', service="eas-style", kind="processor"),
    # OpenAI-compatible routes of an LLM service.
    Case("openai-chat", _chat(
        f'"你好! \\"quotes\\" \'single\' {TOUCH} \\\\ back"', temperature=0.7, top_p=1,
        max_tokens="null", enable_thinking="false", metadata='{"a": [1, 2.5, -0.0, 1e-7]}'),
        path="/v1/chat/completions", service="demo-chat", kind="llm", targets=ALL),
    # Streamed: the snippets print the answer as it arrives (tests/snippets/test_stream.py
    # proves they do not wait for its end).
    Case("openai-chat-stream", _chat(stream="true", stream_options='{"include_usage": true}'),
         path="/v1/chat/completions", service="demo-chat", kind="llm", targets=ALL,
         answer="You said: hello!"),
    Case("openai-chat-stream-without-usage",
         _chat('"你好 👋🏽 \\"quoted\\" it\'s"', stream="true", temperature=0),
         path="/v1/chat/completions", service="demo-chat", kind="llm", targets=ALL,
         answer="You said: 你好 👋🏽 \"quoted\" it's"),
    Case("openai-completions-stream",
         b'{"model": "Qwen3-8B", "prompt": "Once upon", "stream": true, '
         b'"stream_options": {"include_usage": true}}',
         path="/v1/completions", service="demo-chat", kind="llm", targets=ALL,
         answer="You wrote: Once upon"),
    Case("openai-completions", b'{"model": "Qwen3-8B", "prompt": "Once upon", "max_tokens": 5}',
         path="/v1/completions", service="demo-chat", kind="llm", targets=ALL),
    Case("openai-embeddings", b'{"model": "Qwen3-8B", "input": ["a", "b"]}',
         path="v1/embeddings", service="demo-chat", kind="llm", targets=ALL),
    Case("openai-models", method="GET", path="/v1/models", headers={}, service="demo-chat",
         kind="llm", targets=(*NO_BODY_TARGETS, "openai")),
    # The portal's default Content-Type, which the SDK does not send with a GET.
    Case("openai-models-with-content-type", method="GET", path="/v1/models",
         service="demo-chat", kind="llm", targets=NO_BODY_TARGETS),
    Case("openai-headers", _chat(), path="/v1/chat/completions", service="demo-chat",
         kind="llm", targets=ALL,
         headers={"Content-Type": "application/json; charset=utf-8", "X-Request-Id": "req-1",
                  "Accept": "application/json"}),
    Case("openai-without-messages", b'{"model": "Qwen3-8B", "prompt": "hi"}',
         path="/v1/chat/completions", service="demo-chat", kind="llm"),
]
