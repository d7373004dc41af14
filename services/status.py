"""The status board (docs/api.md, "Probes and status"): for each service a user sees, its
probe's state, last check and latency, its uptime over the last 24 hours and a sparkline of
its latency by the hour. Read from the probes and their hourly counts (ProbeHour, by hour
number), never from the probe calls themselves: the board costs the same with a month of them,
and reads plain numbers only (no dates to parse but each service's last check). The sparkline
is drawn by uPlot in the browser from charts(); the SVG of sparkline_points() is what shows
until then, or without JavaScript."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from django.utils import timezone

from services import access
from services.models import Probe, ProbeHour
from services.models.probes import hour_number

HOURS = 24
SERVICE_FIELDS = ("id", "slug", "name", "team_id", "team__name", "team__slug")


@dataclass
class Row:
    service: object
    state: str
    last_checked_at: datetime | None
    last_latency_ms: float | None
    last_error: str
    enabled: bool
    checks: int = 0
    ups: int = 0
    # HOURS values, oldest first: the mean latency of that hour's checks, None without any.
    sparkline: list[float | None] = field(default_factory=list)

    @property
    def uptime_24h(self) -> float | None:
        return round(self.ups / self.checks, 4) if self.checks else None

    @property
    def uptime_percent(self) -> float | None:
        return None if self.uptime_24h is None else round(self.uptime_24h * 100, 2)

    @property
    def points(self) -> str:
        return sparkline_points(self.sparkline)

    @property
    def has_chart(self) -> bool:
        return any(value is not None for value in self.sparkline)

    @property
    def charts(self) -> dict[str, list[float | None]]:
        return charts([self])

    def as_json(self) -> dict:
        return {"service": self.service.slug, "state": self.state,
                "last_checked_at": (self.last_checked_at.astimezone(UTC)
                                    if self.last_checked_at else None),
                "last_latency_ms": self.last_latency_ms, "uptime_24h": self.uptime_24h,
                "last_error": self.last_error or None}


def board(user, services=None) -> list[Row]:
    """The rows of the services the user sees (or of these services), by team and name."""
    if services is None:
        services = list(access.services(user).select_related("team").only(*SERVICE_FIELDS)
                        .order_by("team__name", "name"))
    ids = [service.pk for service in services]
    probes = {row[0]: row for row in Probe.objects.filter(service_id__in=ids).values_list(
        "service_id", "enabled", "state", "last_checked_at", "last_latency_ms", "last_error")}
    first = hour_number(timezone.now()) - (HOURS - 1)
    rows = {}
    for service in services:
        _id, enabled, state, checked_at, latency, error = probes.get(
            service.pk, (None, False, Probe.State.UNKNOWN, None, None, ""))
        rows[service.pk] = Row(service=service,
                               state=state if enabled else Probe.State.UNKNOWN,
                               last_checked_at=checked_at, last_latency_ms=latency,
                               last_error=error if enabled else "", enabled=enabled,
                               sparkline=[None] * HOURS)
    counted = ProbeHour.objects.filter(service_id__in=ids, hour__gte=first).values_list(
        "service_id", "hour", "checks", "ups", "latency_sum_ms")
    for service_id, hour, checks, ups, latency_sum in counted:
        row = rows[service_id]
        row.checks += checks
        row.ups += ups
        if checks and 0 <= hour - first < HOURS:
            row.sparkline[hour - first] = latency_sum / checks
    return list(rows.values())


def charts(rows: list[Row]) -> dict[str, list[float | None]]:
    """What a page hands static/js/sparkline.js, which draws the sparklines with uPlot: for
    each service with a latency to draw (by slug), its values to 0.1 ms, None where an hour
    had no checks."""
    return {row.service.slug: [None if value is None else round(value, 1)
                               for value in row.sparkline]
            for row in rows if row.has_chart}


def sparkline_points(values: list[float | None], width: int = 120, height: int = 24) -> str:
    """The values as the points of an SVG polyline (x left to right, larger values higher);
    an hour without checks is left out."""
    known = [value for value in values if value is not None]
    if not known:
        return ""
    top = max(known) or 1.0
    xs = _xs(len(values), width)
    return " ".join(f"{xs[n]}{height - 1 - (value / top) * (height - 2):.1f}"
                    for n, value in enumerate(values) if value is not None)


@lru_cache(maxsize=16)
def _xs(count: int, width: int) -> list[str]:
    """Each point's x and its comma, written once for every sparkline of the same size (the
    board writes 200 of 24 points)."""
    step = width / max(count - 1, 1)
    return [f"{n * step:.1f}," for n in range(count)]
