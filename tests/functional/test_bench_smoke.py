"""The benchmarks still run (bench/README.md): each script with tiny sizes, in a process of its
own (each starts its own in-process moto and installs its own hooks). The three start together
(most of each one's time is importing and setting up)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RUNS = {
    "cost": (["--participants", "2", "--enrol-minutes", "1"], "Dollars per million"),
    "overhead": (
        ["--participants", "10", "--rounds", "2", "--cold-starts", "1"],
        "ratio worker / minimal",
    ),
    "fanout": (["--sizes", "5,10", "--reps", "1", "--waiting", "20"], "schedules:"),
    "latency": (["--events", "4"], "trigger latency, local stack"),
}


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, subprocess.Popen[str]]]:
    started = {
        script: subprocess.Popen(
            [sys.executable, "-m", f"bench.{script}", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for script, (args, _) in RUNS.items()
    }
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize("script", sorted(RUNS))
def test_the_benchmark_runs_and_prints_its_figures(
    runs: dict[str, subprocess.Popen[str]], script: str
) -> None:
    stdout, stderr = runs[script].communicate(timeout=120)
    assert runs[script].returncode == 0, stderr[-3000:]
    assert RUNS[script][1] in stdout, stdout
