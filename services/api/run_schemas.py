"""The JSON shapes of capacity runs and compares (docs/api.md, "Capacity runs and compare"),
and the functions that fill them."""

from datetime import UTC, datetime

from ninja import Field, Schema

from services.api.schemas import EndpointKind, Input, InvokeIn, Text


class RunIn(Input):
    request: InvokeIn | None = Field(None, description="An invoke body; omitted fields take the "
                                                       "service's defaults.")
    saved: int | None = Field(None, description="Or the id of a saved request to send.")
    total: int = Field(description="N: how many requests.")
    concurrency: int = Field(description="C: how many at once.")
    max_seconds: int | None = Field(None, description="Stop after this long (default and "
                                                      "limit: EASPORTAL_RUN_MAX_SECONDS).")
    dry_run: bool = Field(False, description="Check everything and answer what the run would "
                                             "send (200), without starting it.")


class Figures(Schema):
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float


class RunOut(Schema):
    id: int
    kind: str = Field(description="capacity or compare")
    service: str
    state: str = Field(description="queued, running, done, stopped or failed")
    reason: str = Field(description="Why it stopped or failed; empty when it ran to its end.")
    user: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    method: str
    url: str
    total: int
    concurrency: int
    max_seconds: int
    stop_requested: bool
    sent: int
    ok: int
    statuses: dict[str, int]
    errors: dict[str, int]
    elapsed_s: float
    rps: float | None
    latency_ms: Figures | None
    ttft_ms: Figures | None
    tpot_ms: Figures | None
    output_tokens_per_s: float | None


class RunPreview(Schema):
    service: str
    endpoint: str
    method: str
    url: str
    headers: dict[str, str]
    body_size: int
    total: int
    concurrency: int
    max_seconds: int


class Samples(Schema):
    samples: list[list[float | int | None]] = Field(
        description="[seconds since the run began, latency ms, status or null], one per "
                    "request, in the order sent.")


class TargetIn(Input):
    service: Text
    endpoint: EndpointKind | None = None


class CompareIn(Input):
    targets: list[TargetIn]
    request: InvokeIn | None = None
    rounds: int = Field(1, description="1-20: each target gets the request this many times, "
                                       "in turn.")


class TargetOut(Schema):
    service: str
    endpoint: str
    calls: list[int]
    statuses: dict[str, int]
    latency_ms: Figures | None


class CompareOut(Schema):
    id: int = Field(description="The compare, as a run: GET /api/runs/{id}.")
    targets: list[TargetOut]
    same_body: bool
    rounds: int = Field(description="Rounds sent: fewer than asked when the compare reached its "
                                    "60 s.")
    reason: str = Field(description="Why it ended early; empty otherwise.")


def _utc(value):
    return value.astimezone(UTC) if value is not None else None


def run_out(run):
    return {
        "id": run.pk, "kind": run.kind, "service": run.service_slug, "state": run.state,
        "reason": run.reason, "user": run.username, "created_at": _utc(run.created_at),
        "started_at": _utc(run.started_at), "finished_at": _utc(run.finished_at),
        "method": run.request.get("method", ""), "url": run.url, "total": run.total,
        "concurrency": run.concurrency, "max_seconds": run.max_seconds,
        "stop_requested": run.stop_requested, "sent": run.sent, "ok": run.ok,
        "statuses": run.statuses, "errors": run.errors, "elapsed_s": run.elapsed_s,
        "rps": run.rps, "latency_ms": run.latency_ms, "ttft_ms": run.ttft_ms,
        "tpot_ms": run.tpot_ms, "output_tokens_per_s": run.output_tokens_per_s,
    }
