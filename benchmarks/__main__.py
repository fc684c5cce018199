"""`make bench`: run every benchmarks/bench_*.py module's `main()` in one process, in name order.

Each part prints its own figures side by side with its baseline, measured in the same run.
`python -m benchmarks parser archive` runs only the named parts.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def main(argv: list[str]) -> int:
    parts = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )
    chosen = [p for p in parts if not argv or p in argv]
    failed = 0
    for part in chosen:
        print(f"== {part} ==", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{part}")
        ok = module.main()
        failed += 0 if ok in (None, True) else 1
        print(f"   ({time.perf_counter() - started:.1f} s)\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
