"""`make demo` runs on the embedded default (SpatiaLite, tasks in-process): its steps must work there.

PostgreSQL-only features (partitions, PL/pgSQL, ArrayAgg, triggers) need an embedded path; a
change that forgets one breaks the newcomer's first command, so the demo's steps run here for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_demo_loads_and_scans_on_spatialite(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "TEST_DATABASE_NAME")
    }
    env.update(
        DATABASE_URL=f"spatialite:///{tmp_path / 'demo.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="ERROR",
    )
    migrate = _run(["migrate", "--noinput", "-v0"], env)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    demo = _run(["load_demo"], env)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "permitting:" in demo.stdout and "assessment:" in demo.stdout
    raster = ROOT / "var" / "demo" / "changchun_change_2024.tif"
    # load_demo writes the raster each time and names it: not a file left by an earlier run
    assert "change raster var/demo/changchun_change_2024.tif" in demo.stdout, demo.stdout[-1000:]
    assert raster.exists()
    scan = _run(["scan_change_layer", str(raster), "--plan", "changchun-2024", "--kind", "landcover", "--wait"], env)
    assert scan.returncode == 0, scan.stderr[-2000:]
    assert ": done," in scan.stdout
