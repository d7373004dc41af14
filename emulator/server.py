"""Serving the emulator on waitress: in the foreground (emulator.cli) or in a thread (tests)."""

import threading

import waitress

from emulator.app import GATEWAY_LIMIT, make_app

# waitress buffers a whole request body before the app sees it; past this it answers a 413 of
# its own and closes, so a runaway upload cannot fill the disk.
MAX_BUFFERED_BODY = 16 * GATEWAY_LIMIT
# One thread serves one request for as long as its answer lasts: a paced stream holds its
# thread for seconds, so 64 streams at once need 64 threads, and more for what else comes.
DEFAULT_THREADS = 128
# waitress stops accepting connections past this many open ones (its default is 100).
CONNECTION_LIMIT = 512


def make_server(app, host="127.0.0.1", port=0, threads=DEFAULT_THREADS):
    """A waitress server (HTTP/1.1, keep-alive) for app; port 0 picks a free one."""
    return waitress.create_server(
        app, host=host, port=port, threads=threads, channel_timeout=120,
        connection_limit=max(CONNECTION_LIMIT, 2 * threads),
        max_request_body_size=MAX_BUFFERED_BODY, asyncore_use_poll=True,
        # Keep reading a connection while its request is served: that is how waitress sees a
        # client close during a long answer (environ["waitress.client_disconnected"]).
        channel_request_lookahead=1,
        # Echo shows what a client sent, X-Forwarded-* included.
        clear_untrusted_proxy_headers=False,
    )


def start_in_thread(host="127.0.0.1", port=0, services=None, tokens_per_s=0.0,
                    threads=DEFAULT_THREADS):
    """(server, thread): server.effective_port is the port, server.application the app;
    tokens_per_s is the default pace of streamed answers (0: as fast as possible)."""
    server = make_server(make_app(services, tokens_per_s=tokens_per_s), host, port, threads)
    thread = threading.Thread(target=server.run, name="eas-emulator", daemon=True)
    thread.start()
    return server, thread


def stop(server, thread=None, timeout=5.0):
    # Closing every channel, then the server (its listening socket and its trigger), empties
    # the server's map, and waitress's loop ends on an empty map (webtest's StopableWSGIServer
    # does the same). The loop closes the server itself when the trigger's pull wakes it:
    # closed from here, the loop would first sleep out its poll timeout (1 s).
    for dispatcher in list(server._map.values()):
        if dispatcher is not server and dispatcher is not server.trigger:
            dispatcher.close()
    if thread is not None and thread.is_alive():
        server.trigger.pull_trigger(server.close)
    else:
        server.close()
    server.task_dispatcher.shutdown(timeout=timeout)
    if thread is not None:
        thread.join(timeout)
