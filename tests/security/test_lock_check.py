"""`make setup` refuses a lock file that misses a pin of requirements*.txt."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "lock_check.py"


def run(tmp_path, lock: str, req: str):
    (tmp_path / "x.lock").write_text(lock, encoding="utf-8")
    (tmp_path / "x.txt").write_text(req, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "x.lock"), str(tmp_path / "x.txt")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_lock_with_every_pin_passes(tmp_path):
    lock = "django==5.2.19 \\\n    --hash=sha256:abc\ncelery==5.5.3 \\\n    --hash=sha256:def\n"
    result = run(tmp_path, lock, "# runtime\nDjango==5.2.19\ncelery[redis]==5.5.3\n-r other.txt\n")
    assert result.returncode == 0, result.stderr


def test_missing_or_different_pin_is_refused_with_one_line_each(tmp_path):
    lock = "django==5.2.18 \\\n    --hash=sha256:abc\n"
    result = run(tmp_path, lock, "Django==5.2.19\ndjango-axes==8.3.1\n")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "django==5.2.19" in lines[0] and "5.2.18" in lines[0]
    assert "django-axes==8.3.1" in lines[1] and "missing" in lines[1] and "make lock" in lines[1]


def test_the_committed_locks_cover_the_requirements():
    root = SCRIPT.parents[1]
    for lock, reqs in (
        ("requirements.lock", ["requirements.txt"]),
        ("requirements-dev.lock", ["requirements.txt", "requirements-dev.txt"]),
    ):
        args = [sys.executable, str(SCRIPT), str(root / lock), *[str(root / r) for r in reqs]]
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
