"""`manage.py run_probes`: checks every due probe (services/probes.py), in a loop until stopped,
or once with --once. Several may run side by side: each due probe is claimed by exactly one.
`make run` starts it beside the portal."""

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from services import probes


class Command(BaseCommand):
    help = "Check the services' probes: every due one, in a loop (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="one pass over every due probe, then exit")
        parser.add_argument("--pool", type=int, default=probes.DEFAULT_POOL,
                            help=f"probes checked at once (default {probes.DEFAULT_POOL})")
        parser.add_argument("--tick", type=float, default=1.0,
                            help="seconds between two looks for due probes (default 1)")

    def handle(self, *args, once, pool, tick, verbosity, **options):
        if not 1 <= pool <= 512:
            raise CommandError("--pool must be from 1 to 512.")
        if not 0.05 <= tick <= 60:
            raise CommandError("--tick must be from 0.05 to 60 seconds.")
        with ThreadPoolExecutor(max_workers=pool, thread_name_prefix="probe") as threads:
            if once:
                started = time.monotonic()
                checked = probes.run_pass(threads)
                if verbosity:
                    self.stdout.write(f"{checked} probes checked in "
                                      f"{time.monotonic() - started:.3f} s.")
                return
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_args: stop.set())
            if verbosity:
                self.stdout.write(f"Checking probes every {tick:g} s (pool {pool}); "
                                  "Ctrl+C stops.")
                self.stdout.flush()
            while not stop.is_set():
                started = time.monotonic()
                close_old_connections()  # one that broke (a database restart) is replaced
                claimed = probes.run_pass(threads, wait=False)
                if claimed and verbosity > 1:
                    self.stdout.write(f"{claimed} probes claimed.")
                    self.stdout.flush()
                stop.wait(max(tick - (time.monotonic() - started), 0.01))
