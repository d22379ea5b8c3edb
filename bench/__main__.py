"""``make bench``: every scenario on SQLite and PostgreSQL, each beside its ceilings, at each scale.

Environment: BENCH_SCALES (e.g. ``10k,1m,10m``), BENCH_QUICK=1 (short runs, 10k only),
BENCH_DURATION / BENCH_WARMUP (seconds per figure), BENCH_BACKENDS (``sqlite,postgresql``),
BENCH_WORKERS (server workers, or a list to compare), BENCH_ONLY (scenario keys), BENCH_OUT (results dir).
"""

from __future__ import annotations

import os
import sys

from bench.runner import Options, run


def main() -> int:
    options = Options.from_env(os.environ)
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
