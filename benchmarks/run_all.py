"""Run every benchmark in this folder, one after the other, and print their figures.

`make bench` calls this; pass --quick for the small sizes (a few minutes in all).
Speed and memory goals live here, never in timed tests.
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    extra = sys.argv[1:]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} {' '.join(extra)}", flush=True)
        t0 = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), *extra], cwd=HERE.parent)
        print(f"=== {script.name}: exit {result.returncode} in {time.perf_counter() - t0:.0f} s", flush=True)
        if result.returncode:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
