"""Serving the emulator on waitress: in the foreground (emulator.cli) or in a thread (tests)."""

import threading

import waitress

from emulator.app import GATEWAY_LIMIT, make_app

# waitress buffers a whole request body before the app sees it; past this it answers a 413 of
# its own and closes, so a runaway upload cannot fill the disk.
MAX_BUFFERED_BODY = 16 * GATEWAY_LIMIT


def make_server(app, host="127.0.0.1", port=0, threads=16):
    """A waitress server (HTTP/1.1, keep-alive) for app; port 0 picks a free one."""
    return waitress.create_server(
        app, host=host, port=port, threads=threads, channel_timeout=120,
        max_request_body_size=MAX_BUFFERED_BODY, asyncore_use_poll=True,
        # Echo shows what a client sent, X-Forwarded-* included.
        clear_untrusted_proxy_headers=False,
    )


def start_in_thread(host="127.0.0.1", port=0, services=None):
    """(server, thread): server.effective_port is the port, server.application the app."""
    server = make_server(make_app(services), host, port)
    thread = threading.Thread(target=server.run, name="eas-emulator", daemon=True)
    thread.start()
    return server, thread


def stop(server, thread=None, timeout=5.0):
    # Closing every channel, the listening socket and the trigger empties the server's map, and
    # waitress's loop ends on an empty map (webtest's StopableWSGIServer does the same).
    for dispatcher in list(server._map.values()):
        dispatcher.close()
    server.task_dispatcher.shutdown(timeout=timeout)
    if thread is not None:
        thread.join(timeout)
