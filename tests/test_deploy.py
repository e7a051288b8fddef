"""Deployment checks: production settings pass `check --deploy`, compose validates, migrations are complete."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def manage(*args, env_extra=None):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright in this process; a
    # deployment never has it, so the subprocess does not inherit it.
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_check_deploy_is_clean_with_production_variables():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "x" * 20 + "A-very-long-random-production-secret-9876543210",
            "ALLOWED_HOSTS": "supervision.example.gov.cn",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_migrations_are_complete():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is installed by make setup")
def test_docker_compose_config_validates(tmp_path):
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(["docker-compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = subprocess.run(["docker-compose", "config", "--services"], cwd=tmp_path, capture_output=True, text=True)
    assert set(services.stdout.split()) == {"db", "redis", "web", "worker", "beat"}


@pytest.mark.django_db
def test_healthz(client):
    assert client.get("/healthz/").json() == {"status": "ok"}
