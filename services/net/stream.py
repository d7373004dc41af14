"""An answer relayed as it arrives, for the streaming calls of services/streams.py.

A thread of its own sends the request and reads the answer, handing over each piece the moment
read1() returns it: nothing waits for a line end or a full buffer. The consumer gets an Idle
tick whenever nothing arrived for tick_s, so that it can find out whether its own client is
still there; when the consumer stops (its client went away), the connection to the upstream is
shut at once. The deadline, the response cap and the pinned address hold as for every call
(services/net/client.py).
"""

import queue
import time
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from services.net import client, endpoints
from services.net.deadline import Deadline
from services.net.errors import CallError

CHUNK_BYTES = 64 * 1024


@dataclass
class Head:
    status: int
    reason: str
    headers: dict[str, str]
    declared_size: int | None


@dataclass
class Piece:
    data: bytes  # decompressed, as read1() returned it
    at_ms: float  # since the start of the call


class Idle:
    """Nothing arrived for a while."""


@dataclass
class End:
    size: int  # bytes read, after decompression, also past the cap
    truncated: bool
    elapsed_ms: float
    error: str = ""
    error_kind: str = ""
    failure: CallError | None = None  # no answer at all: the connection failed


Event = Head | Piece | Idle | End
IDLE = Idle()


class Relay:
    """One answer relayed: the request goes out as the Relay is made, and events() yields
    Head, then Piece after Piece (Idle in the gaps), then End. stop(), or closing events(),
    ends the call: the upstream sees its connection close at once, and the reader, blocked
    in a read, returns. target: what client.resolve() checked."""

    def __init__(self, request: client.OutboundRequest, target: tuple[endpoints.Endpoint, str],
                 *, deadline_s: float, max_response_bytes: int, started: float,
                 tick_s: float) -> None:
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        # The deadline counts from the start of the call, its name lookup included.
        self._deadline = Deadline(max(deadline_s - (time.perf_counter() - started), 0.001))
        self._tick_s = tick_s
        _readers.submit(_read, self._events, request, target, self._deadline, deadline_s,
                        max_response_bytes, started)

    def events(self) -> Generator[Event, None, None]:
        try:
            while True:
                try:
                    event = self._events.get(timeout=self._tick_s)
                except queue.Empty:
                    yield IDLE
                    continue
                yield event
                if isinstance(event, End):
                    return
        finally:
            self.stop()

    def wait_sent(self, timeout: float) -> None:
        """Returns once the request is on the wire (or failed to get there), or after timeout:
        work that would compete with the reader for the interpreter can wait that long."""
        self._deadline.sent.wait(timeout)

    def stop(self) -> None:
        self._deadline.cancel()


# The readers of every relay in the process: a thread waiting in the pool starts reading at
# once, where a new thread would first have to start. Threads are made as streams need them.
_readers = ThreadPoolExecutor(max_workers=1024, thread_name_prefix="stream-relay")


def _read(events: "queue.SimpleQueue[Event]", request: client.OutboundRequest,
          target: tuple[endpoints.Endpoint, str], deadline: Deadline, deadline_s: float,
          limit: int, started: float) -> None:
    try:
        opened = client.open_answer(request, target, deadline=deadline, deadline_s=deadline_s,
                                    started=started)
    except CallError as exc:
        events.put(End(0, False, exc.elapsed_ms, failure=exc))
        return
    finally:
        deadline.sent.set()  # also when it never got there: nobody waits for it then
    events.put(head_of(opened))
    for event in pieces(opened, request.method, limit):
        events.put(event)


def head_of(opened: client.Opened) -> Head:
    status, reason, headers, declared = opened.head()
    return Head(status, reason, headers, declared)


def pieces(opened: client.Opened, method: str, limit: int) -> Generator[Piece | End, None, None]:
    """The answer's body, a Piece as each read returns, then End; kept up to limit bytes. The
    connection is given back, or closed, when the answer ends or the deadline stops it."""
    deadline, started = opened.deadline, opened.started
    size, truncated, error, error_kind, whole = 0, False, "", "", method == "HEAD"
    try:
        while method != "HEAD":
            data = opened.raw.read1(CHUNK_BYTES, decode_content=True)
            whole = not data
            # A shut socket ends a read that waits, but an upstream that goes on sending is
            # still read from on Linux: the deadline and a stop are checked at every piece.
            if not data or deadline.cancelled:
                break
            if time.monotonic() >= deadline.ends_at:
                deadline.expired = True
                break
            size += len(data)
            room = limit - (size - len(data))
            yield Piece(data[:room] if room < len(data) else data,
                        (time.perf_counter() - started) * 1000)
            if size > limit:
                truncated = True
                break
        if deadline.expired:  # the watchdog shut the socket between two reads
            error_kind, error = opened.failure(TimeoutError())
    except Exception as exc:  # every way a read can fail ends the stream with its reason
        if not deadline.cancelled:
            error_kind, error = opened.failure(exc)
    finally:
        # Reused only when read to its end: a consumer that stopped left data on the wire.
        opened.release(reusable=whole and not (error or deadline.cancelled))
    yield End(size, truncated, opened.elapsed_ms(), error, error_kind)
