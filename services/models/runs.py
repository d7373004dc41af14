"""Capacity runs and compares (docs/api.md, "Capacity runs and compare"): one request sent many
times, C at once, by a background worker, or to 2 to 4 targets in turn; each request is also a
Call with source "run" and this run set. The run keeps what it measured as it goes, so that a
worker that dies leaves the figures it had."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models.registry import Service
from services.models.teams import Team


class Run(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        STOPPED = "stopped", _("stopped")
        FAILED = "failed", _("failed")

    class Kind(models.TextChoices):
        CAPACITY = "capacity", _("capacity run")
        COMPARE = "compare", _("compare")

    ACTIVE = (State.QUEUED, State.RUNNING)

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CAPACITY)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="runs")
    # A compare may have several services: this is the first one's.
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="runs")
    service_slug = models.CharField(max_length=64)
    service_name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="+")
    username = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    # Written by the worker at every progress step, and by a compare before each request (then
    # ahead, to the request's deadline): a running run whose heartbeat is old has lost its
    # worker (services/runs/state.py).
    heartbeat_at = models.DateTimeField(null=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    # Why it stopped or failed, in the user's words; empty when it ran to its end.
    reason = models.TextField(blank=True)
    stop_requested = models.BooleanField(default=False)
    total = models.PositiveIntegerField()
    concurrency = models.PositiveIntegerField()
    max_seconds = models.PositiveIntegerField()
    # What is sent: {"endpoint", "method", "path", "headers": [[name, value]], "body_base64"}.
    # Header values are kept as given while the run may still send them, and redacted by the
    # history's rules once it has ended.
    request = models.JSONField(default=dict)
    url = models.TextField(blank=True)
    # What it measured (services/runs/stats.py); for a compare, "targets" and "same_body".
    sent = models.PositiveIntegerField(default=0)
    ok = models.PositiveIntegerField(default=0)
    statuses = models.JSONField(default=dict)
    errors = models.JSONField(default=dict)
    elapsed_s = models.FloatField(default=0.0)
    rps = models.FloatField(null=True)
    latency_ms = models.JSONField(null=True)
    ttft_ms = models.JSONField(null=True)
    tpot_ms = models.JSONField(null=True)
    output_tokens_per_s = models.FloatField(null=True)
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One active capacity run per service, held by the database itself.
            models.UniqueConstraint(
                fields=["service"], name="run_one_active_per_service",
                condition=Q(kind="capacity", state__in=["queued", "running"])),
        ]
        indexes = [models.Index(fields=["service", "-id"], name="run_service_id"),
                   models.Index(fields=["team", "-id"], name="run_team_id")]

    def __str__(self):
        return f"{self.kind} {self.pk} of {self.service_slug}: {self.state}"

    @property
    def active(self):
        return self.state in self.ACTIVE
