"""The figures of a capacity run (services/runs/stats.py) on known values: linear percentiles as
numpy computes them by default, the tally of statuses and errors, rps and the automatic stop."""

import random
import statistics

import pytest

from services.runs.stats import Result, Tally, percentile, summary


@pytest.mark.parametrize(("values", "p", "expected"), [
    # numpy.percentile([1, 2, 3, 4], [50, 90, 99]) == [2.5, 3.7, 3.97]
    ([1, 2, 3, 4], 50, 2.5), ([1, 2, 3, 4], 90, 3.7), ([1, 2, 3, 4], 99, 3.97),
    # numpy.percentile([10, 20, 30, 40, 50], [0, 25, 95, 100]) == [10, 20, 48, 50]
    ([10, 20, 30, 40, 50], 0, 10), ([10, 20, 30, 40, 50], 25, 20),
    ([10, 20, 30, 40, 50], 95, 48), ([10, 20, 30, 40, 50], 100, 50),
    ([7], 50, 7), ([7], 99, 7),
])
def test_linear_percentiles_on_known_values(values, p, expected):
    assert percentile(values, p) == pytest.approx(expected)


def test_they_agree_with_the_standard_librarys_inclusive_quantiles():
    rng = random.Random(12)
    for size in (2, 3, 10, 101, 1000):
        values = sorted(rng.uniform(1, 500) for _ in range(size))
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        for p in (50, 90, 95, 99):
            assert percentile(values, p) == pytest.approx(cuts[p - 1])


def test_no_values_has_no_summary_and_the_summary_has_every_figure():
    assert summary([]) is None
    assert summary([3.0, 1.0, 2.0, 4.0]) == {"mean": 2.5, "p50": 2.5, "p90": 3.7, "p95": 3.85,
                                             "p99": 3.97, "max": 4.0}


def test_the_tally_counts_statuses_errors_and_rate():
    tally = Tally()
    tally.add(Result(started_s=0.0, elapsed_ms=100, status=200))
    tally.add(Result(started_s=0.5, elapsed_ms=500, status=503, error_kind="http_5xx"))
    tally.add(Result(started_s=0.9, elapsed_ms=100, status=None, error_kind="timeout"))
    figures = tally.figures()
    assert (figures["sent"], figures["ok"]) == (3, 1)
    assert figures["statuses"] == {"200": 1, "503": 1}
    assert figures["errors"] == {"http_5xx": 1, "timeout": 1}
    # Latency over the answers only; the duration from the first start to the last end.
    assert figures["latency_ms"]["max"] == 500 and figures["latency_ms"]["p50"] == 300
    assert figures["elapsed_s"] == 1.0 and figures["rps"] == 3.0
    assert figures["ttft_ms"] is None and figures["output_tokens_per_s"] is None


def test_tokens_per_second_over_the_whole_run():
    tally = Tally()
    for start in (0.0, 1.0):
        tally.add(Result(started_s=start, elapsed_ms=1000, status=200, ttft_ms=50.0, tpot_ms=10.0,
                         completion_tokens=100))
    figures = tally.figures()
    assert figures["output_tokens_per_s"] == 100.0  # 200 tokens in 2 s
    assert figures["ttft_ms"]["p50"] == 50.0 and figures["tpot_ms"]["max"] == 10.0


def test_the_automatic_stop_waits_for_twenty_answers_then_needs_more_than_a_fifth():
    tally = Tally()
    for n in range(19):
        tally.add(Result(started_s=n, elapsed_ms=1, status=500, error_kind="http_5xx"))
    assert not tally.too_many_errors()  # 19 answers, all errors: too few to judge
    tally.add(Result(started_s=19, elapsed_ms=1, status=500, error_kind="http_5xx"))
    assert tally.too_many_errors()
    fine = Tally()
    for n in range(100):
        fine.add(Result(started_s=n, elapsed_ms=1, status=200 if n % 5 else 500))
    assert fine.failed == 20 and not fine.too_many_errors()  # exactly 20%: not more than
    fine.add(Result(started_s=100, elapsed_ms=1, status=None, error_kind="refused"))
    assert fine.too_many_errors()
