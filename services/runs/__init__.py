"""Capacity runs and compares (docs/api.md, "Capacity runs and compare"): control.py starts,
stops and watches runs, engine.py executes one in a background worker, tasks.py hands it to
Django's tasks API, compare.py sends one request to several targets in turn, stats.py the
figures (pure)."""
