"""Watching the client of one request: whether it went away, waiting while watching, and the
times that the request's record in app.received carries (disconnected_at, finished_at).

waitress reads a connection while its request is served only with channel_request_lookahead
above 0 (emulator.server sets it); then a client that closes is seen at once by waitress's
loop, and environ["waitress.client_disconnected"]() says so. Waits are cut into slices of POLL
seconds, so a paced stream notices within about that much that nobody listens any more, and
stops. See docs/emulator.md."""

import time

from waitress.channel import ClientDisconnected

POLL = 0.05


class Broken(Exception):
    """Raised by a route's body to drop the connection there, without finishing the answer
    (X-Emulator-Break-After)."""


class Watch:
    def __init__(self, environ, record):
        self.is_gone = environ.get("waitress.client_disconnected")
        self.record = record

    def gone(self):
        """True once the client has closed its connection; the first time, records when."""
        if self.record["disconnected"]:
            return True
        if self.is_gone is not None and self.is_gone():
            self.went_away()
            return True
        return False

    def went_away(self):
        if not self.record["disconnected"]:
            self.record["disconnected_at"] = time.monotonic()
            self.record["disconnected"] = True

    def wait_until(self, deadline):
        """Sleeps until time.monotonic() reaches deadline; False as soon as the client is
        gone (checked at least every POLL seconds), else True."""
        while not self.gone():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, POLL))
        return False

    def wait(self, seconds):
        return self.wait_until(time.monotonic() + seconds)


def tracked(body, watch):
    """The body of a response, handed on chunk by chunk while the client is there. Records
    finished_at when all of it went out, a disconnect when the client left first (seen before
    a chunk, or when waitress closes the body early), and turns Broken into a dropped
    connection."""
    try:
        for chunk in body:
            if watch.gone():
                return
            yield chunk
        if not watch.gone():
            watch.record["finished_at"] = time.monotonic()
    except Broken:
        # waitress answers this exception by closing the connection once what was written is
        # flushed, without the chunked encoding's last chunk, and logs it at INFO only.
        raise ClientDisconnected("the emulator broke the answer off, as asked") from None
    except GeneratorExit:  # waitress closes the body early: writing to the client failed
        watch.went_away()
        raise
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
