"""A capacity run, executed in a background worker (services/runs/tasks.py): N requests, C at
once, each timed from the start of sending to its last byte, each recorded as a Call.

C threads take the next request number until N are taken or the run stops; each sends through
calls.send_ready() and hands its result to the run's own thread, which writes the Calls in
batches, keeps the figures (services/runs/stats.py) and, every TICK_S, saves them on the Run
with a heartbeat and looks whether someone asked it to stop. It stops by itself past its time,
when more than 20% of at least 20 answers are errors, or when its worker is told to shut down
(then it fails: the run did not end on its own terms). Stopping cancels the requests in flight,
so a stop takes effect at once, not after the slowest answer.
"""

import contextlib
import logging
import queue
import threading
import time
from typing import Any

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import calls
from services.errors import Refusal
from services.models import Call, Run
from services.runs import state
from services.runs.stats import Result, Tally

log = logging.getLogger(__name__)

TICK_S = 0.25
# Set by the worker command when it is told to stop (services/management/commands/run_worker.py).
SHUTDOWN = threading.Event()


@sensitive_variables()
def execute(run_id: int) -> None:
    """Runs the queued run run_id to its end; a run not queued (stopped meanwhile, or taken by
    another worker) is left alone."""
    if not state.claim(run_id):
        return
    run = Run.objects.select_related("service", "user").get(pk=run_id)
    try:
        if run.service is None or run.user is None:
            raise Refusal(404, _("The service or the user who started the run is gone."))
        request = calls.ready(run.user, run.service, state.call_request(run))
        if not state.may_run(run.user, request.service):
            raise Refusal(403, _("The user who started the run is no longer a maintainer."))
    except Refusal as exc:
        state.finish(run, Run.State.FAILED, exc.message, Tally())
        return
    Engine(run, request).go()


class Engine:
    @sensitive_variables()
    def __init__(self, run: Run, request: calls.Ready) -> None:
        self.run = run
        self.request = request
        self.tally = Tally()
        self.results: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.auto_stopped = False
        self.stopping = threading.Event()
        self.in_flight: set[Any] = set()
        self.lock = threading.Lock()
        self.taken = 0
        self.started = time.perf_counter()
        self.base = calls.request_values(run.user, request.service, request.kind, request.path,
                                         request.outbound, request.token, source="run")
        self.base["run_id"] = run.pk
        self.pending: list[dict[str, Any]] = []

    def go(self) -> None:
        ending, reason = Run.State.DONE, ""
        threads = [threading.Thread(target=self.sender, name=f"run-{self.run.pk}-{n}",
                                    daemon=True) for n in range(self.run.concurrency)]
        try:
            for thread in threads:
                thread.start()
            last_tick = 0.0
            while any(thread.is_alive() for thread in threads) or not self.results.empty():
                with contextlib.suppress(queue.Empty):
                    self.take(self.results.get(timeout=TICK_S))
                now = time.perf_counter()
                if now - last_tick < TICK_S:
                    continue
                last_tick = now
                self.flush()
                if ending == Run.State.DONE:
                    ending, reason = self.why_stop(now)
                    if ending != Run.State.DONE:
                        self.stop()
            if ending == Run.State.DONE and self.auto_stopped:
                ending, reason = self.why_stop(time.perf_counter())
            self.flush()
        except BaseException:
            log.exception("Run %s failed", self.run.pk)
            self.stop()
            ending, reason = Run.State.FAILED, _("The worker failed during the run; the error "
                                                "was logged.")
            for thread in threads:
                thread.join(timeout=5)
            self.drain_quietly()
            raise
        finally:
            state.finish(self.run, ending, reason, self.tally)

    def why_stop(self, now: float) -> tuple[str, str]:
        if SHUTDOWN.is_set():
            return Run.State.FAILED, _("The worker was stopped during the run.")
        if state.stop_requested(self.run.pk):
            return Run.State.STOPPED, _("Stopped by a user.")
        if self.auto_stopped:
            return Run.State.STOPPED, _(
                "Stopped by itself: %(failed)s of %(sent)s answers were errors (more than "
                "20%%).") % {"failed": self.tally.failed, "sent": self.tally.sent}
        if now - self.started > self.run.max_seconds:
            return Run.State.STOPPED, _("Stopped by itself at its limit of %(seconds)s s.") % {
                "seconds": self.run.max_seconds}
        return Run.State.DONE, ""

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            deadlines = list(self.in_flight)
        for deadline in deadlines:
            deadline.cancel()

    @sensitive_variables()
    def sender(self) -> None:
        while True:
            with self.lock:
                if self.stopping.is_set() or self.taken >= self.run.total:
                    return
                self.taken += 1
            created_at = timezone.now()
            started_s = time.perf_counter() - self.started
            holder: list[Any] = []
            response, figures = calls.send_ready(self.request, on_deadline=self.watch(holder))
            with self.lock:
                self.in_flight.discard(holder[0])
            values = {**self.base, "created_at": created_at,
                      **calls.response_values(response, self.request.token, figures)}
            result = Result(
                started_s=started_s, elapsed_ms=values["elapsed_ms"], status=values["status"],
                error_kind=values["error_kind"] or ("" if values["status"] is None
                                                    or values["status"] < 400
                                                    else f"http_{values['status'] // 100}xx"),
                ttft_ms=figures.ttft_ms, tpot_ms=figures.tpot_ms,
                completion_tokens=figures.completion_tokens)
            with self.lock:
                # Counted here, not when the run's thread gets to it: fast failures would
                # otherwise run far past the automatic stop.
                self.tally.add(result)
                too_many = self.tally.too_many_errors() and not self.stopping.is_set()
            if too_many:
                self.auto_stopped = True
                self.stop()
            self.results.put(values)

    def watch(self, holder: list[Any]):
        def on_deadline(deadline: Any) -> None:
            holder.append(deadline)
            with self.lock:
                self.in_flight.add(deadline)
                stopping = self.stopping.is_set()
            if stopping:
                deadline.cancel()
        return on_deadline

    def take(self, values: dict[str, Any]) -> None:
        self.pending.append(values)

    def flush(self) -> None:
        """Writes the Calls that came in, and the figures so far with a heartbeat. A service,
        user or run deleted during the run is left out of them, as from the calls before
        (services/calls.py, gone_references())."""
        if self.pending:
            try:
                Call.objects.bulk_create([Call(**values) for values in self.pending])
            except IntegrityError:
                self.pending = [calls.without(calls.gone_references(values), values)
                                for values in self.pending]
                Call.objects.bulk_create([Call(**values) for values in self.pending])
            self.pending = []
        with self.lock:
            figures = self.tally.figures()
        state.progress(self.run.pk, figures)

    def drain_quietly(self) -> None:
        try:
            while True:
                self.take(self.results.get_nowait())
        except queue.Empty:
            pass
        try:
            self.flush()
        except Exception:
            log.exception("Run %s: its last calls could not be written", self.run.pk)
