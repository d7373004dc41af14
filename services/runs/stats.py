"""The figures of a run, from its requests' results; pure (no Django, no network).

- Latency: per request, from the start of sending to the last byte of the answer, over every
  request that got an answer (any status); connection failures are counted as errors only.
- Percentiles are linear, numpy's default: for n sorted values, the p-th is at rank
  p/100 * (n - 1), between the two values around it.
- rps: requests finished (answered or failed) per second of the run's duration, from the first
  send to the last finish.
- TTFT and TPOT as the streaming figures of each request (services/metrics.py); output tokens
  per second: the completion tokens of all requests over the run's duration, as vLLM's
  benchmark counts its output token throughput.
- An answer counts as ok when its status is 2xx and nothing cut it short; every other result is
  an error, for the automatic stop (more than 20% errors of at least 20 answers).
"""

import math
from dataclasses import dataclass, field

PERCENTILES = (50, 90, 95, 99)
AUTO_STOP_AFTER = 20
AUTO_STOP_ERROR_SHARE = 0.2


def percentile(ordered: list[float], p: float) -> float:
    """The p-th linear percentile of sorted values (numpy.percentile's default)."""
    if not ordered:
        raise ValueError("no values")
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, float] | None:
    """{"mean", "p50", "p90", "p95", "p99", "max"}, rounded to µs; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    figures = {"mean": sum(ordered) / len(ordered)}
    figures.update({f"p{p}": percentile(ordered, p) for p in PERCENTILES})
    figures["max"] = ordered[-1]
    return {name: round(value, 3) for name, value in figures.items()}


@dataclass
class Result:
    """One request of a run, as the figures need it."""

    started_s: float  # since the run began
    elapsed_ms: float
    status: int | None  # None: no answer (the connection failed, or it was stopped)
    error_kind: str = ""  # "" or the kind of what went wrong (timeout, refused, broken, ...)
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    completion_tokens: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error_kind


@dataclass
class Tally:
    """The figures so far, fed one result at a time."""

    sent: int = 0
    ok: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    tpots: list[float] = field(default_factory=list)
    tokens: int = 0
    first_start_s: float | None = None
    last_end_s: float = 0.0

    def add(self, result: Result) -> None:
        self.sent += 1
        self.ok += result.ok
        if result.status is not None:
            key = str(result.status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            self.latencies.append(result.elapsed_ms)
        if result.error_kind:
            self.errors[result.error_kind] = self.errors.get(result.error_kind, 0) + 1
        if result.ttft_ms is not None:
            self.ttfts.append(result.ttft_ms)
        if result.tpot_ms is not None:
            self.tpots.append(result.tpot_ms)
        self.tokens += result.completion_tokens or 0
        if self.first_start_s is None or result.started_s < self.first_start_s:
            self.first_start_s = result.started_s
        self.last_end_s = max(self.last_end_s, result.started_s + result.elapsed_ms / 1000)

    @property
    def failed(self) -> int:
        return self.sent - self.ok

    def too_many_errors(self) -> bool:
        return self.sent >= AUTO_STOP_AFTER and self.failed > AUTO_STOP_ERROR_SHARE * self.sent

    def duration_s(self) -> float:
        return self.last_end_s - self.first_start_s if self.first_start_s is not None else 0.0

    def figures(self) -> dict:
        """The measured fields of a Run (docs/api.md)."""
        duration = self.duration_s()
        return {
            "sent": self.sent, "ok": self.ok, "statuses": dict(self.statuses),
            "errors": dict(self.errors), "elapsed_s": round(duration, 3),
            "rps": round(self.sent / duration, 2) if duration > 0 else None,
            "latency_ms": summary(self.latencies), "ttft_ms": summary(self.ttfts),
            "tpot_ms": summary(self.tpots),
            "output_tokens_per_s": (round(self.tokens / duration, 2)
                                    if duration > 0 and self.tokens else None),
        }
