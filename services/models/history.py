"""The history: Call, one per call sent, and AuditEvent, one per thing worth knowing later who
did."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models.registry import Service
from services.models.teams import Team

# The sources of the calls the history leaves out unless asked (services/history.py): the many
# requests of capacity runs, and probes. The others are its everyday calls.
BACKGROUND_SOURCES = ("run", "probe")


class Call(models.Model):
    """One call that was sent, whatever came of it; copies what it was about, so that it
    still reads right after the service is renamed or deleted. Secrets are redacted."""

    class StatusClass(models.TextChoices):
        SUCCESS = "2xx", "2xx"
        REDIRECT = "3xx", "3xx"
        CLIENT_ERROR = "4xx", "4xx"
        SERVER_ERROR = "5xx", "5xx"
        FAILED = "failed", _("failed")

    class Source(models.TextChoices):
        PORTAL = "portal", _("portal")
        GATEWAY = "gateway", _("gateway")
        RUN = "run", _("capacity run")
        PROBE = "probe", _("probe")

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="calls")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="calls")
    service_slug = models.CharField(max_length=64)
    service_name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="calls")
    username = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    endpoint = models.CharField(max_length=8, choices=Service.EndpointKind.choices)
    method = models.CharField(max_length=8)
    path = models.TextField(blank=True)
    url = models.TextField()
    # Headers are kept as [name, value] pairs: PostgreSQL's jsonb would reorder an object's
    # keys, and a replayed or exported request must keep the order it was sent in.
    request_header_pairs = models.JSONField(default=list)
    request_body = models.BinaryField(default=b"")
    status = models.PositiveSmallIntegerField(null=True)
    status_class = models.CharField(max_length=8, choices=StatusClass.choices)
    elapsed_ms = models.FloatField()
    response_header_pairs = models.JSONField(default=list)
    response_body = models.BinaryField(default=b"")
    response_size = models.BigIntegerField(default=0)
    response_declared_size = models.BigIntegerField(null=True)
    response_truncated = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # What went wrong, in a word that does not change with the language: dns, refused,
    # timeout, tls, connection, broken.
    error_kind = models.CharField(max_length=16, blank=True)
    # Streaming and the figures LLM serving is judged by (docs/api.md, "Streaming"). The
    # database defaults let rows be written outside Django (the benchmark seeds a million).
    streamed = models.BooleanField(default=False, db_default=False)
    stopped = models.BooleanField(default=False, db_default=False)
    ttft_ms = models.FloatField(null=True)
    tpot_ms = models.FloatField(null=True)
    prompt_tokens = models.PositiveIntegerField(null=True)
    completion_tokens = models.PositiveIntegerField(null=True)
    # Where completion_tokens came from: "usage" (the answer said) or "chunks" (counted).
    tokens_source = models.CharField(max_length=8, blank=True, default="", db_default="")
    finish_reason = models.CharField(max_length=32, blank=True, default="", db_default="")
    # How the call came: the portal's pages and API, the gateway (/gw/), a capacity run or a
    # probe.
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PORTAL,
                              db_default=Source.PORTAL)
    # The capacity run or compare this call was a request of (source "run").
    run = models.ForeignKey("services.Run", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="calls")

    class Meta:
        ordering = ["-id"]
        # Each filter the history page offers (services/history.py) has an index that leads
        # with the team (the pages of a member) or without it (a superuser's), then the
        # filter's column, then the page's order: newest first by id, or by created_at, id
        # when the page is filtered by date. The path is searched within a bounded window
        # (docs/api.md, "History filters").
        indexes = [
            models.Index(fields=["team", "-id"], name="call_team_id"),
            models.Index(fields=["team", "service_slug", "-id"], name="call_team_service_id"),
            models.Index(fields=["team", "status_class", "-id"], name="call_team_status_id"),
            models.Index(fields=["team", "username", "-id"], name="call_team_username_id"),
            models.Index(fields=["team", "source", "-id"], name="call_team_source_id"),
            models.Index(fields=["team", "-created_at", "-id"], name="call_team_created_id"),
            models.Index(fields=["service_slug", "-id"], name="call_service_id"),
            models.Index(fields=["status_class", "-id"], name="call_status_id"),
            models.Index(fields=["username", "-id"], name="call_username_id"),
            models.Index(fields=["source", "-id"], name="call_source_id"),
            # Also prune_calls's: the calls older than the retention.
            models.Index(fields=["-created_at", "-id"], name="call_created_id"),
            # The everyday calls, which the history lists unless asked for others: without
            # them, a list would step over every probe and run request newer than its page.
            models.Index(fields=["team", "-id"], name="call_team_everyday_id",
                         condition=~models.Q(source__in=BACKGROUND_SOURCES)),
            models.Index(fields=["-id"], name="call_everyday_id",
                         condition=~models.Q(source__in=BACKGROUND_SOURCES)),
            # Streamed calls only: an index that costs nothing when the others are written.
            models.Index(fields=["team", "-id"], name="call_team_streamed_id",
                         condition=models.Q(streamed=True)),
            models.Index(fields=["-id"], name="call_streamed_id",
                         condition=models.Q(streamed=True)),
            # The requests of one run, in the order they were sent.
            models.Index(fields=["run", "id"], name="call_run_id",
                         condition=models.Q(run__isnull=False)),
        ]

    def __str__(self):
        return f"{self.method} {self.url} → {self.status or self.error}"

    @property
    def request_headers(self):
        return dict(self.request_header_pairs)

    @request_headers.setter
    def request_headers(self, headers):
        self.request_header_pairs = list(headers.items())

    @property
    def response_headers(self):
        return dict(self.response_header_pairs)

    @response_headers.setter
    def response_headers(self, headers):
        self.response_header_pairs = list(headers.items())

    @staticmethod
    def status_class_of(status, error):
        if error or status is None:
            return Call.StatusClass.FAILED
        # http.client accepts any three digits; keep odd ones in the nearest class.
        return f"{min(max(status // 100, 2), 5)}xx"


class AuditEvent(models.Model):
    """Something worth knowing later who did (docs/api.md, "Audit log"), recorded where it
    happens, in the same transaction as the change. It never holds a secret."""

    class Action(models.TextChoices):
        TOKEN_REVEALED = "token.revealed", _("Token revealed in a snippet")
        SERVICE_CREATED = "service.created", _("Service created")
        SERVICE_CHANGED = "service.changed", _("Service changed")
        SERVICE_DELETED = "service.deleted", _("Service deleted")
        TOKEN_CHANGED = "token.changed", _("Token changed")
        MEMBER_ADDED = "member.added", _("Member added")
        MEMBER_REMOVED = "member.removed", _("Member removed")
        MEMBER_ROLE_CHANGED = "member.role_changed", _("Member's role changed")
        KEY_CREATED = "key.created", _("API key created")
        KEY_REVOKED = "key.revoked", _("API key revoked")
        RUN_STARTED = "run.started", _("Capacity run started")
        SERVICE_DOWN = "service.down", _("Service went down")
        SERVICE_UP = "service.up", _("Service came back up")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="+")
    # Empty for what the portal did itself (a probe's change of state).
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    team = models.ForeignKey(Team, null=True, on_delete=models.SET_NULL, related_name="+")
    service_slug = models.CharField(max_length=64, blank=True)
    # What the action was done to, in words: a service's slug, a member's username, a key's
    # name, a run's number.
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["team", "-id"], name="audit_team_id"),
                   models.Index(fields=["action", "-id"], name="audit_action_id"),
                   models.Index(fields=["username", "-id"], name="audit_username_id")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.target}"
