"""Pieces of `scripts/bench.py` and `scripts/load.py`: a counted server process, the measured
workloads, and the report writer. Run the scripts, not these modules (except serverproc.py, which
the parent starts as a child process)."""
