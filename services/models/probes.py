"""Probes (docs/api.md, "Probes and status"): a service's own health check, sent by
`manage.py run_probes` through the call path, and what it found: the service's state now, and
hourly figures for the status board (uptime over 24 hours, a latency sparkline) that do not
read the probe calls themselves, so the board costs the same with a month of them."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from services.models.registry import Service

MIN_INTERVAL_S = 30
DEFAULT_INTERVAL_S = 300


class Probe(models.Model):
    class State(models.TextChoices):
        UP = "up", _("up")
        DOWN = "down", _("down")
        UNKNOWN = "unknown", _("unknown")

    service = models.OneToOneField(Service, on_delete=models.CASCADE, primary_key=True,
                                   related_name="probe")
    enabled = models.BooleanField(_("probe on"), default=False)
    method = models.CharField(_("probe method"), max_length=8, default="GET",
                              choices=Service.Method.choices)
    path = models.CharField(_("probe path"), max_length=2000, blank=True)
    body = models.TextField(_("probe body"), blank=True)
    interval_s = models.PositiveIntegerField(
        _("probe interval (seconds)"), default=DEFAULT_INTERVAL_S,
        validators=[MinValueValidator(MIN_INTERVAL_S), MaxValueValidator(86400)])
    expect_status = models.PositiveSmallIntegerField(
        _("expected status"), default=200,
        validators=[MinValueValidator(100), MaxValueValidator(599)])
    # When it is due next; null: at once (just created or changed). A runner claims a due
    # probe by moving this forward with a compare-and-set update.
    next_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.UNKNOWN)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_at"], name="probe_due",
                                condition=models.Q(enabled=True))]

    def __str__(self):
        return f"probe of {self.service_id}: {self.state}"


def hour_number(moment):
    """The hour a moment falls in, as whole hours since 1970-01-01 00:00 UTC."""
    return int(moment.timestamp() // 3600)


class ProbeHour(models.Model):
    """A service's probes in one hour (UTC): how many, how many found it up, their latency."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="probe_hours")
    # hour_number(): an integer, so that the board reads a day of hours without parsing dates.
    hour = models.IntegerField()
    checks = models.PositiveIntegerField(default=0)
    ups = models.PositiveIntegerField(default=0)
    latency_sum_ms = models.FloatField(default=0.0)
    latency_max_ms = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "hour"],
                                               name="probe_hour_unique")]

    def __str__(self):
        return f"{self.service_id} hour {self.hour}: {self.ups}/{self.checks} up"
