"""Run every bench script in turn: `make bench`. Each prints its own figures."""

from __future__ import annotations

import subprocess
import sys

BENCHES = (
    "bench.ones_calls",
    "bench.ones_add2",
    "bench.dtask_calls",
    "bench.jobx_rolling",
    "bench.local_store",
    "bench.signing",
    "bench.scan_engine",
    "bench.codearts_calls",
    "bench.console_calls",
    "bench.scale",
    "bench.schedules",
    "bench.cold_start",
    "bench.docs_size",
    "bench.cli_follow",
    "bench.webhooks",
)


def main() -> int:
    failed = 0
    for name in BENCHES:
        print(f"\n=== {name}", flush=True)
        failed |= subprocess.call([sys.executable, "-m", name])
    return failed


if __name__ == "__main__":
    sys.exit(main())
