"""gunicorn's response writer, with an answer's head sent together with its body.

gunicorn sends a response's status line and headers in one send and its body in another, so the
client is woken twice for every answer. Holding the head back until the first piece of the body
is written makes one send of an ordinary answer (gunicorn.conf.py installs it in each worker);
with the same for the outbound request (services/net/transport.py) and the token decrypted once,
an invoke took 0.3 ms less in alternating runs of make bench's (a) loop (README, "Speed").

What goes on the wire is unchanged, byte for byte; only the number of sends differs. A file
that gunicorn hands to sendfile() gets its head first, as before; so does a body larger than
COALESCE_BYTES (copying it costs more than a send).
"""

from typing import Any

from gunicorn.http import wsgi

COALESCE_BYTES = 64 * 1024


class Response(wsgi.Response):
    _head = b""
    _hold = True

    def send_headers(self) -> None:
        if self.headers_sent:
            return
        lines = self.default_headers()
        lines.extend(f"{name}: {value}\r\n" for name, value in self.headers)
        self._head = ("".join(lines) + "\r\n").encode("latin-1")
        self.headers_sent = True
        if not self._hold:
            self._flush()

    def _flush(self) -> None:
        head, self._head = self._head, b""
        if head:
            self.sock.sendall(head)

    def _emit_body(self, data: bytes) -> None:
        if self.chunked:
            data = b"%X\r\n%b\r\n" % (len(data), data)
        head, self._head = self._head, b""
        if head and len(data) <= COALESCE_BYTES:
            data = head + data
        elif head:
            self.sock.sendall(head)
        self.sock.sendall(data)

    def sendfile(self, respiter: Any) -> bool:
        # sendfile() writes to the socket itself, after send_headers(): nothing is held back.
        self._hold = False
        sent = bool(super().sendfile(respiter))
        self._hold = not sent  # not sent: the file is written as a body, after all
        return sent

    def close(self) -> None:
        if not self.headers_sent:
            self.send_headers()
        head, self._head = self._head, b""
        if self.chunked:
            self.sock.sendall(head + b"0\r\n\r\n")
        elif head:
            self.sock.sendall(head)


def install() -> None:
    """Makes every response of this process use Response (gunicorn builds each one through
    gunicorn.http.wsgi.create(), which reads the module's Response when it runs)."""
    wsgi.Response = Response  # type: ignore[misc]
