"""Benchmarks that print figures, not pass/fail (bench/README.md). Run them as modules from the
repository's root: ``python -m bench.cost``, ``python -m bench.overhead``, ``python -m
bench.fanout`` (or ``make bench``)."""
