"""Refuse a lock file that misses a pin of the requirements files (then run `make lock`).

usage: lock_check.py LOCK REQUIREMENTS...   (standard library only: runs before the venv exists)
"""

import re
import sys
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def main(lock: str, *requirements: str) -> int:
    locked = pins(Path(lock))
    problems = []
    for req in requirements:
        for name, version in pins(Path(req)).items():
            if locked.get(name) != version:
                have = locked.get(name, "missing")
                problems.append(f"{req}: {name}=={version} is not in {lock} ({have}); run `make lock`")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
