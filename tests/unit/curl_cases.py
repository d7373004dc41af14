"""The curl import's corpus (tests/unit/test_curl_import.py): commands as the EAS and OpenAI
documentation write them, and one or more for each rule of services/curl/, each with the
request it must give; then the commands it must refuse, each with its message.

Every accepted command is also run by bash, whose words must be the import's, and those with
an http URL by the real curl, whose request on the wire must be the one the import gives
(`wire=False` says why not where it cannot be)."""

from dataclasses import dataclass

EAS = "http://1234567890123456.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/chat"
JSON = ("Content-Type", "application/json")
FORM = ("Content-Type", "application/x-www-form-urlencoded")
ACCEPT_JSON = ("Accept", "application/json")

AUTH = "The Authorization header was left out: the portal sends the service's token in it."
KEPT = "The shell would replace {}; the import keeps them as written."


@dataclass(frozen=True)
class Case:
    name: str
    command: str
    method: str
    url: str
    headers: tuple = ()
    body: bytes = b""
    notes: tuple = ()
    wire: bool = True  # real curl can send it to a local server

    def __str__(self):
        return self.name


CHAT = ('{\n    "model": "Qwen3-8B",\n    "messages": [\n      {"role": "system", "content": '
        '"You are a helpful assistant."},\n      {"role": "user", "content": "hello!"}\n    ]'
        '\n  }')
OPENAI_CHAT = ('{\n    "model": "gpt-4.1",\n    "messages": [\n      {\n        "role": '
               '"developer",\n        "content": "You are a helpful assistant."\n      },\n'
               '      {\n        "role": "user",\n        "content": "Hello!"\n      }\n'
               '    ]\n  }')

CASES = [
    # The EAS documentation's calls (uid, service and token as placeholders or made up).
    Case("eas-chat-one-line",
         f"curl {EAS}/v1/chat/completions -H \"Content-Type: application/json\" "
         "-H \"Authorization: <token>\" -d '{\"model\": \"Qwen3-8B\", \"messages\": "
         "[{\"role\": \"user\", \"content\": \"hello!\"}]}'",
         "POST", f"{EAS}/v1/chat/completions", (JSON,),
         b'{"model": "Qwen3-8B", "messages": [{"role": "user", "content": "hello!"}]}',
         (AUTH,)),
    Case("eas-chat-continued",
         f"curl {EAS}/v1/chat/completions \\\n  -H \"Content-Type: application/json\" \\\n"
         f"  -H \"Authorization: <token>\" \\\n  -d '{CHAT}'",
         "POST", f"{EAS}/v1/chat/completions", (JSON,), CHAT.encode(), (AUTH,)),
    Case("eas-chat-dash-x-post",
         f"curl -X POST {EAS}/v1/chat/completions \\\n    -H \"Content-Type: application/json\" "
         f"\\\n    -H \"Authorization: <EAS_TOKEN>\" \\\n    -d '{CHAT}'",
         "POST", f"{EAS}/v1/chat/completions", (JSON,), CHAT.encode(), (AUTH,)),
    Case("eas-echo", f"curl {EAS} -H 'Authorization: NWMyN2UzNjBiZmI2YT***' -d 'hello eas'",
         "POST", EAS, (FORM,), b"hello eas", (AUTH,)),
    Case("eas-models", f"curl {EAS}/v1/models -H \"Authorization: $EAS_TOKEN\"",
         "GET", f"{EAS}/v1/models", (), b"", (AUTH,)),
    # The OpenAI documentation's (https: real curl would need TLS from the local server).
    Case("openai-chat",
         "curl https://api.openai.com/v1/chat/completions \\\n  -H \"Content-Type: "
         "application/json\" \\\n  -H \"Authorization: Bearer $OPENAI_API_KEY\" \\\n"
         f"  -d '{OPENAI_CHAT}'",
         "POST", "https://api.openai.com/v1/chat/completions", (JSON,), OPENAI_CHAT.encode(),
         (AUTH,), wire=False),
    Case("openai-models", "curl https://api.openai.com/v1/models \\\n  -H \"Authorization: "
         "Bearer $OPENAI_API_KEY\"",
         "GET", "https://api.openai.com/v1/models", (), b"", (AUTH,), wire=False),
    Case("openai-embeddings",
         "curl https://api.openai.com/v1/embeddings \\\n  -H \"Authorization: Bearer "
         "$OPENAI_API_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    "
         "\"input\": \"The food was delicious and the waiter...\",\n    \"model\": "
         "\"text-embedding-ada-002\",\n    \"encoding_format\": \"float\"\n  }'",
         "POST", "https://api.openai.com/v1/embeddings", (JSON,),
         b'{\n    "input": "The food was delicious and the waiter...",\n    "model": '
         b'"text-embedding-ada-002",\n    "encoding_format": "float"\n  }', (AUTH,),
         wire=False),
    # Quotes
    Case("ansi-c", "curl http://h/p -H $'X-Tab: a\\tb' --data-binary $'line\\n\\x41\\101"
         "\\u00e9\\\\ \\'q\\' \\\"d\\\" \\e\\cA'",
         "POST", "http://h/p", (("X-Tab", "a\tb"), FORM),
         "line\nAAé\\ 'q' \"d\" \x1b\x01".encode()),
    Case("ansi-c-bytes-and-nul", "curl http://h/p --data-binary $'\\xff\\xfe\\0cut'x",
         "POST", "http://h/p", (FORM,), b"\xff\xfex"),
    Case("double-quote-escapes", 'curl http://h/p -d "a\\"b \\$HOME \\\\ \\n $HOME ${X:-y}"',
         "POST", "http://h/p", (FORM,), b'a"b $HOME \\ \\n $HOME ${X:-y}',
         (KEPT.format("$HOME, ${X:-y}"),), wire=False),
    Case("mixed-quotes-and-comment", "# from the docs\ncurl 'http://h/p'\"?a=1\"\\&b=2 "
         "-d 'it'\\''s' # the end",
         "POST", "http://h/p?a=1&b=2", (FORM,), b"it's"),
    # Data
    Case("data-joined", "curl http://h/p -d a=1 --data-raw @x --data-binary 'b=2' -d ''",
         "POST", "http://h/p", (FORM,), b"a=1&@x&b=2&"),
    Case("data-urlencode", "curl http://h/p --data-urlencode 'name=a b&c=d' "
         "--data-urlencode '=x y' --data-urlencode 'z é/' --data-urlencode 'n@me=v'",
         "POST", "http://h/p", (FORM,), b"name=a+b%26c%3Dd&x+y&z+%C3%A9%2F&n@me=v"),
    Case("json", "curl http://h/p -H 'X-A: 1' --json '{\"a\": 1}' --json '{\"b\": 2}'",
         "POST", "http://h/p", (("X-A", "1"), JSON, ACCEPT_JSON), b'{"a": 1}{"b": 2}'),
    Case("json-after-data", "curl http://h/p -d x --json '{}' -H 'Accept: text/plain'",
         "POST", "http://h/p", (("Accept", "text/plain"), JSON), b"x{}"),
    Case("json-without-its-content-type", "curl http://h/p --json '{}' -H 'Content-Type:'",
         "POST", "http://h/p", (ACCEPT_JSON,), b"{}"),
    Case("get-moves-data-to-the-query", "curl 'http://h/p?z=0' -G -d a=1 --data-urlencode "
         "'q=x y'", "GET", "http://h/p?z=0&a=1&q=x+y"),
    Case("get-without-query", "curl -G http://h/p --data-urlencode 'q=1'",
         "GET", "http://h/p?q=1"),
    Case("head", "curl -I http://h/p", "HEAD", "http://h/p"),
    Case("head-with-get-data", "curl -I -G http://h/p -d x=1", "HEAD", "http://h/p?x=1"),
    Case("request-overrides", "curl -X PUT http://h/p -d '{}' -H 'Content-Type: application/json'",
         "PUT", "http://h/p", (JSON,), b"{}"),
    Case("get-with-body", "curl -X GET http://h/p --data-raw q", "GET", "http://h/p",
         (FORM,), b"q"),
    # Headers
    Case("header-removed-and-empty", "curl http://h/p -H 'Content-Type:' -H 'X-Empty;' "
         "-H 'X-Spaced:   v  ' -d x",
         "POST", "http://h/p", (("X-Empty", ""), ("X-Spaced", "v")), b"x"),
    Case("removal-keeps-an-earlier-header", "curl http://h/p -H 'X-A: 1' -H 'X-A:'",
         "GET", "http://h/p", (("X-A", "1"),)),
    Case("curls-own-headers-first", "curl http://h/p -H 'X-A: 1' -b 'a=1' -e 'http://r/;auto' "
         "-A 'agent/1' -b 'c=2' -d x",
         "POST", "http://h/p", (("User-Agent", "agent/1"), ("Referer", "http://r/"),
                                ("Cookie", "a=1;c=2"), ("X-A", "1"), FORM), b"x"),
    Case("a-header-replaces-curls-own", "curl http://h/p -A a -H 'User-Agent: b'",
         "GET", "http://h/p", (("User-Agent", "b"),)),
    Case("no-user-agent", "curl http://h/p -A ''", "GET", "http://h/p"),
    Case("not-a-header", "curl http://h/p -H 'nocolon' -H 'X-B;junk'", "GET", "http://h/p",
         notes=("curl sends nothing for -H nocolon (no “Name: value”): left out.",
                "curl sends nothing for -H X-B;junk (no “Name: value”): left out.")),
    Case("credentials", "curl -u user:secret http://h/p --oauth2-bearer t "
         "-H 'X-Token: ${EAS_TOKEN}'", "GET", "http://h/p",
         notes=(AUTH, "The header X-Token, which carried the token (${EAS_TOKEN}), was left "
                      "out: the portal sends the service's token in Authorization.")),
    Case("user-in-the-url", "curl http://u:p@h/p", "GET", "http://h/p", notes=(AUTH,)),
    Case("host-header", "curl http://h/p -H 'Host: other'", "GET", "http://h/p",
         notes=("The header Host was left out: the portal sets it itself.",), wire=False),
    Case("non-ascii-header", "curl http://h/p -H 'X-Name: Zoë'", "GET", "http://h/p",
         (("X-Name", "Zoë"),), notes=("curl sends the header X-Name as UTF-8; the portal "
                                      "sends header values as ISO-8859-1 (Latin-1).",)),
    # Options
    Case("clusters-and-attached-values", "curl -sSLkXPOST -HX-A:1 -dx=1 -m 5 http://h/p",
         "POST", "http://h/p", (("X-A", "1"), FORM), b"x=1",
         ("-L follows redirects; the portal does not, it shows the redirect itself.",
          "-k changes how curl checks the server's certificate; the portal always checks it "
          "against the system's trusted authorities.")),
    Case("long-options-with-equals", "curl --request=PATCH --header='X-A: 1' "
         "--data-raw=x --url=http://h/p", "PATCH", "http://h/p", (("X-A", "1"), FORM), b"x",
         wire=False),  # curl 8 reads --opt=value; this machine's curl 7.88 does not
    Case("ignored-options", "curl --silent --show-error --compressed --max-time 10 "
         "--connect-timeout 3 -o /dev/null -w '%{http_code}' --no-buffer --no-progress-meter "
         "--retry 2 --fail -v -i http://h/p", "GET", "http://h/p"),
    Case("end-of-options", "curl -d x -- http://h/p", "POST", "http://h/p", (FORM,), b"x"),
    Case("no-scheme", "curl h/p?x#frag", "GET", "http://h/p?x",
         notes=("The URL has no scheme: read as http://, as curl does.",)),
    Case("dot-segments", "curl http://h/a/../b/./c", "GET", "http://h/b/c"),
    Case("globoff", "curl -g 'http://h/p?a[]=1&b={x}'", "GET", "http://h/p?a[]=1&b={x}"),
    Case("output-piped-and-redirected", "curl -s http://h/p -d x 2>/dev/null | jq . > out.json",
         "POST", "http://h/p", (FORM,), b"x",
         ("The answer goes on to jq, which does not change the request: left out.",)),
    # A printf piped into curl, as the portal's snippets write it, and the other data options
    # that read it.
    Case("printf-octal", "printf '\\000\\377%%\\047a' | curl http://h/p --data-binary @- "
         "-H 'Content-Type:'", "POST", "http://h/p", (), b"\x00\xff%'a"),
    Case("printf-text", "printf '%s' 'it'\\''s \\n %s' | curl http://h/p --data-binary @-",
         "POST", "http://h/p", (FORM,), b"it's \\n %s"),
    Case("printf-for-data-strips-lines",
         "printf 'a\\r\\nb\\nc\\rd\\ne' | curl http://h/p -d @-",
         "POST", "http://h/p", (FORM,), b"abce"),
    Case("printf-for-urlencode", "printf 'x y\\n' | curl http://h/p --data-urlencode n@-",
         "POST", "http://h/p", (FORM,), b"n=x+y%0A"),
    Case("printf-for-json", "printf '{}' | curl http://h/p --json @-",
         "POST", "http://h/p", (JSON, ACCEPT_JSON), b"{}"),
    Case("printf-read-once", "printf 'a' | curl http://h/p --data-binary @- --data-binary @-",
         "POST", "http://h/p", (FORM,), b"a&"),
    Case("empty-header-name", "curl http://h/p -H ': v' -H 'X-A: 1'", "GET", "http://h/p",
         (("X-A", "1"),), notes=("curl sends nothing for -H : v (no header name): left out.",),
         wire=False),
]

# (name, command, the 400's message)
REFUSED = [
    ("empty", "  \n", "Paste a curl command."),
    ("not-curl", "wget http://h/p", "This is not a curl command: it starts with wget."),
    ("unclosed-single-quote", "curl http://h/p -d 'x", "A single quote (') is not closed."),
    ("unclosed-double-quote", 'curl http://h/p -d "x', 'A double quote (") is not closed.'),
    ("unclosed-ansi-c", "curl http://h/p -d $'x", "A $' quote is not closed."),
    ("two-commands", "curl http://h/a; curl http://h/b",
     "The text holds more than one command: paste only the curl command."),
    ("and-and", "export X=1 && curl http://h/p",
     "The text holds more than one command: paste only the curl command."),
    ("unquoted-ampersand", "curl http://h/p?a=1&b=2",
     "An unquoted & ends the command there (the shell would run it in the background): "
     "quote the URL or the word that holds the &."),
    ("command-substitution", "curl http://h/p -H \"X-Date: $(date)\"",
     "The command runs another command to make one of its words ($(...)); the import cannot "
     "know that command's output: paste the command with the value itself."),
    ("backticks", "curl http://h/p -d `cat body.json`",
     "The command runs another command to make one of its words (`...`); the import cannot "
     "know that command's output: paste the command with the value itself."),
    ("here-document", "curl http://h/p -d @- <<EOF\n{}\nEOF",
     "The command has a here-document (<<); the import reads only a printf piped into curl."),
    ("echo-pipe", "echo '{}' | curl http://h/p -d @-",
     "curl reads its input from echo: the import reads only a printf piped into curl, as the "
     "portal's snippets write it."),
    ("data-file", "curl http://h/p -d @body.json",
     "-d reads the file body.json, which the portal cannot see: paste its content instead."),
    ("binary-file", "curl http://h/p --data-binary @/tmp/x.bin",
     "--data-binary reads the file /tmp/x.bin, which the portal cannot see: paste its content "
     "instead."),
    ("urlencode-file", "curl http://h/p --data-urlencode name@file.txt",
     "--data-urlencode reads the file file.txt, which the portal cannot see: paste its "
     "content instead."),
    ("stdin-without-printf", "curl http://h/p --data-binary @-",
     "--data-binary @- reads curl's standard input, which the import knows only from a printf "
     "piped into curl: paste the data itself."),
    ("stdin-from-a-file", "curl http://h/p --data-binary @- < body.json",
     "--data-binary @- reads curl's standard input, which the import knows only from a printf "
     "piped into curl: paste the data itself."),
    ("headers-file", "curl http://h/p -H @headers.txt",
     "-H reads the file headers.txt, which the portal cannot see: paste its content instead."),
    ("cookie-file", "curl http://h/p -b cookies.txt",
     "-b reads the file cookies.txt, which the portal cannot see: paste its content instead."),
    ("form", "curl http://h/p -F file=@x.png",
     "curl's -F changes the request in a way the import does not understand: remove it, or "
     "build the request in the builder."),
    ("config", "curl -K curl.cfg http://h/p",
     "curl's -K changes the request in a way the import does not understand: remove it, or "
     "build the request in the builder."),
    ("config-long", "curl --config curl.cfg http://h/p",
     "curl's --config changes the request in a way the import does not understand: remove it, "
     "or build the request in the builder."),
    ("upload-file", "curl --upload-file x.bin http://h/p",
     "curl's --upload-file changes the request in a way the import does not understand: "
     "remove it, or build the request in the builder."),
    ("unknown-long-option", "curl --frobnicate http://h/p",
     "--frobnicate is not a curl option the import knows: remove it or send the request from "
     "the builder."),
    ("unknown-short-option", "curl -sW http://h/p",
     "-W is not a curl option the import knows: remove it or send the request from the "
     "builder."),
    ("missing-value", "curl http://h/p -H",
     "-H needs a value."),
    ("no-url", "curl -d x", "The command has no URL."),
    ("two-urls", "curl http://h/a http://h/b",
     "The command has more than one URL (http://h/a, http://h/b); the import takes one "
     "request at a time."),
    ("not-http", "curl ftp://h/file", "The URL ftp://h/file is not an http or https URL."),
    ("url-with-a-space", "curl 'http://h/a b'",
     "The URL http://h/a b has a space or a control character, which curl refuses: "
     "percent-encode it."),
    ("glob", "curl 'http://h/p?a[]=1'",
     "curl reads [ ] { } in the URL as a pattern of several URLs; add --globoff (-g) if they "
     "belong to the URL."),
    ("host-from-a-variable", "curl $EAS_ENDPOINT/v1/models",
     "The URL's host comes from $EAS_ENDPOINT, which the shell would replace: paste the URL "
     "itself."),
    ("head-with-data", "curl -I http://h/p -d x",
     "curl refuses -I (--head) with data: it cannot send a HEAD request with a body."),
    ("a-header-twice", "curl http://h/p -H 'X-A: 1' -H 'x-a: 2'",
     "curl would send the header x-a twice; the portal sends each header once: keep one of "
     "them."),
    ("printf-conversion", "printf '%d' 5 | curl http://h/p --data-binary @-",
     "The printf before curl has the conversion %d; the import reads only %s and %%."),
    ("next", "curl http://h/a --next http://h/b",
     "curl's --next changes the request in a way the import does not understand: remove it, "
     "or build the request in the builder."),
    ("unquoted-parenthesis", "curl http://h/p -d (x)",
     "The command has an unquoted (, which the shell reads as syntax: quote the word it "
     "belongs to."),
    ("trailing-pipe", "curl http://h/p |", "The command ends with |."),
    # bash would make two words of it, -d a:1 and a second URL b:2.
    ("brace-expansion", 'curl http://h/p -d {"a":1,"b":2}',
     "The word {a:1,b:2} has an unquoted {…} with a comma or “..”, which the shell expands "
     "into several words: quote the word (as '…')."),
    ("brace-sequence", "curl -g http://h/p{1..3}",
     "The word http://h/p{1..3} has an unquoted {…} with a comma or “..”, which the shell "
     "expands into several words: quote the word (as '…')."),
    ("line-break-in-a-header", "curl http://h/p -H $'X-A: 1\\r\\nX-B: 2'",
     "The header X-A holds a line break or a NUL, which a header may not: remove it."),
]
