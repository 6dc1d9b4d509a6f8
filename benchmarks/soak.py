"""Soak run: many calls, many in flight, faults mixed in by the stand-in.

    python benchmarks/soak.py                       # 50,000 calls, 200 in flight, 5 % faults
    python benchmarks/soak.py --calls 5000 --in-flight 500 --fault-rate 0.1

Prints calls, errors by class, wrong answers (an answer to another call's prompt, or sent with
another call's cookie: must be 0), and open file descriptors, threads and RSS before and after,
measured after a warm-up. Exits 1 if anything was lost, mixed up or leaked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.soak import soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--in-flight", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--configurations", type=int, default=32)
    args = parser.parse_args()
    result = soak(
        args.calls, args.in_flight, args.fault_rate, configuration_count=args.configurations
    )
    print(result.summary())
    lost = result.calls - result.answered - sum(result.errors.values())
    leaked = result.fds[1] > result.fds[0] + 16 or result.threads[1] != result.threads[0]
    return 1 if lost or result.wrong or result.pool_failures or leaked else 0


if __name__ == "__main__":
    raise SystemExit(main())
