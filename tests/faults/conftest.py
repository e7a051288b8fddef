"""A production-settings app server (gunicorn) on the test database, and a private Redis.

The server runs in its own process, as deployed: DEBUG off, persistent database
connections with health checks, tasks sent to a real broker after commit. Its data is
what the test commits (transactional tests), read through the test database's name.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from tests.cases.conftest import make_lead, scene, users  # noqa: F401 - the cases scene, for requests that notify

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Fault-tests-only_7yQw2LmZ9xKc4VbN8pRt3HsJd6Fg1AeUo5Ii0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert proc.poll() is None, f"process exited with {proc.returncode}"
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.2)


@dataclass
class PrivateRedis:
    """A redis-server of the test's own on a free port: stopped and restarted at will."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=2)


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is installed by make setup")
    server = PrivateRedis(workdir=tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class AppServer:
    port: int
    env: dict
    proc: subprocess.Popen

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        timeout: float = 60,
    ) -> tuple[int, bytes, float]:
        headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers, method=method)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read(), time.monotonic() - started
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), time.monotonic() - started

    def json(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        status, body, _ = self.request(method, path, **kwargs)
        return status, json.loads(body)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )


@pytest.fixture
def app_server_factory(transactional_db, tmp_path):
    """Start gunicorn with the production settings on the (committed) test database."""
    started: list[subprocess.Popen] = []

    def start(*, broker_url: str, workers: int = 1, threads: int = 1) -> AppServer:
        db = connection.settings_dict
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "SECRET_KEY"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY=SECRET,
            ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            CONN_MAX_AGE="600",
            CELERY_BROKER_URL=broker_url,
            CELERY_TASK_ALWAYS_EAGER="false",
            MEDIA_ROOT=str(tmp_path / "media"),
            CHANGE_LAYER_DIR=str(tmp_path / "layers"),
            CHANGE_LAYER_INBOX=str(tmp_path / "inbox"),
            STATIC_ROOT=str(tmp_path / "static"),
            LOG_LEVEL="WARNING",
        )
        port = free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        cmd = [
            str(gunicorn),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
        ]
        if threads > 1:
            cmd += ["--worker-class", "gthread", "--threads", str(threads)]
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "gunicorn.log", "wb")
        )
        started.append(proc)
        wait_for_port(port, proc=proc)
        return AppServer(port=port, env=env, proc=proc)

    yield start
    for proc in started:  # before the database is flushed: no connection may stay open
        proc.terminate()
        proc.wait(timeout=30)
