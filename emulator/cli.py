"""The emulator's command line, shared by `python -m emulator` and `manage.py eas_emulator`:
the same options, the same start-up checks, the same line once it listens. See
docs/emulator.md."""

import argparse
import os
import re
import sys

from emulator.app import DEFAULT_KEEP, make_app
from emulator.config import ConfigError, check_pace, load_config
from emulator.server import DEFAULT_THREADS, make_server

DEFAULT_PORT = 8001


class StartError(Exception):
    """Why the emulator cannot start, in one line."""


def add_arguments(parser):
    """The options, on an argparse parser (Django's command parser is one too)."""
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    # Checked by port_number, not argparse, so that a bad value is one line like every other
    # start-up error, whether it comes from here or from EMULATOR_PORT.
    parser.add_argument("--port", help=f"default: EMULATOR_PORT, else {DEFAULT_PORT}; "
                                       "0 picks a free one")
    parser.add_argument("--config", help='a JSON file {"services": {"<name>": {"token": '
                                         '..., "kind": ..., "model": ...}}}; default: '
                                         "the demo set (emulator/demo.json) that seed_demo "
                                         "registers")
    parser.add_argument("--tokens-per-s", help="the pace of streamed chat and completion "
                                               "answers, in tokens (chunks) per second; a "
                                               "request's X-Emulator-Tokens-Per-S header "
                                               "overrides it; default: 0, as fast as possible")
    parser.add_argument("--threads", help=f"how many requests are answered at once (a "
                                          f"stream holds one for its whole length); default: "
                                          f"{DEFAULT_THREADS}")
    parser.add_argument("--keep", help="how many requests the control route "
                                       "(/__emulator__/received) remembers; default: "
                                       f"{DEFAULT_KEEP}")


def port_number(value, source):
    """value (a string or an int) as a port, or StartError naming where it came from."""
    if not re.fullmatch(r"[0-9]{1,5}", str(value)) or int(value) > 65535:
        raise StartError(f"{source}: expected a port number from 0 to 65535, not {value!r}.")
    return int(value)


def chosen_port(port):
    """The port to listen on: --port if given, else EMULATOR_PORT, else 8001."""
    if port is not None:
        return port_number(port, "--port")
    return port_number(os.environ.get("EMULATOR_PORT") or DEFAULT_PORT, "EMULATOR_PORT")


def pace(value):
    """--tokens-per-s as a number, 0 when not given; StartError when it is not one."""
    try:
        return check_pace(0 if value is None else value, "--tokens-per-s")
    except ConfigError as exc:
        raise StartError(str(exc)) from None


def thread_count(value):
    """--threads as a number, DEFAULT_THREADS when not given; StartError when it is not one."""
    if value is None:
        return DEFAULT_THREADS
    if not re.fullmatch(r"[0-9]{1,4}", str(value)) or not 1 <= int(value) <= 4096:
        raise StartError(f"--threads: expected a number from 1 to 4096, not {value!r}.")
    return int(value)


def keep_count(value):
    """--keep as a number, DEFAULT_KEEP when not given; StartError when it is not one."""
    if value is None:
        return DEFAULT_KEEP
    if not re.fullmatch(r"[0-9]{1,7}", str(value)) or not 1 <= int(value) <= 1_000_000:
        raise StartError(f"--keep: expected a number from 1 to 1000000, not {value!r}.")
    return int(value)


def listen(host, port, config=None, tokens_per_s=0.0, threads=DEFAULT_THREADS,
           keep=DEFAULT_KEEP):
    """(app, server): a listening waitress server for the services of config, else the demo
    set; StartError when the config is bad or the address cannot be bound."""
    try:
        app = make_app(load_config(config) if config else None, tokens_per_s=tokens_per_s,
                       keep=keep)
    except ConfigError as exc:
        raise StartError(str(exc)) from None
    try:
        return app, make_server(app, host, port, threads)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise StartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    except ValueError as exc:  # waitress's answer to a host name it cannot resolve
        raise StartError(f"cannot listen on {host}:{port}: {exc}") from None


def run(host="127.0.0.1", port=None, config=None, out=None, tokens_per_s=None, threads=None,
        keep=None):
    """Serve until the process is stopped; StartError when it cannot start. The options are
    the command line's values (strings, or None when not given) or numbers."""
    out = out or sys.stdout
    port = chosen_port(port)
    tokens_per_s, threads = pace(tokens_per_s), thread_count(threads)
    app, server = listen(host, port, config, tokens_per_s, threads, keep_count(keep))
    # A host with several addresses ("localhost") gets a server of several sockets, which
    # has no single effective port.
    port = getattr(server, "effective_port", port)
    paced = f" streaming {tokens_per_s:g} tokens/s" if tokens_per_s else ""
    out.write(f"EAS emulator on http://{host}:{port}/api/predict/<service> "
              f"serving {', '.join(sorted(app.services))}{paced}\n")
    out.flush()  # read through a pipe by make run and the tests
    server.run()


def main(argv=None):
    """`python -m emulator [--host H] [--port P] [--config FILE] [--tokens-per-s N]
    [--threads N] [--keep N]`: serves until stopped; when it cannot start, one line on
    stderr and 2."""
    parser = argparse.ArgumentParser(prog="python -m emulator",
                                     description="Serve the local EAS emulator.")
    add_arguments(parser)
    options = parser.parse_args(argv)
    try:
        run(options.host, options.port, options.config, tokens_per_s=options.tokens_per_s,
            threads=options.threads, keep=options.keep)
    except StartError as exc:
        print(f"EAS emulator: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0
