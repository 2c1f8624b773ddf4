"""`trendsearch bench` (see `lab.bench.run`)."""

from lab.bench.run import run_bench

__all__ = ["run_bench"]
