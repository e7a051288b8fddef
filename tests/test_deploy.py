"""Deployment checks: production settings pass `check --deploy`, compose validates, migrations are complete."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

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
    assert set(services.stdout.split()) == {"db", "redis", "web", "worker", "beat", "hj212"}


@pytest.mark.django_db
def test_healthz_names_database_and_broker(client):
    r = client.get("/healthz/")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "broker": "ok"}


# --- the production SECRET_KEY -------------------------------------------------------------

GOOD_KEY = "Vx3q-9mTf_2LpZ8rKc7nWb4yHs6jDg1aQe5uRt0oIk-MvNxCzBlPw"


def import_production(env_extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "SECRET_KEY_FILE")
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production as s; print(len(s.SECRET_KEY))"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    "key",
    [
        None,  # unset: base.py's development default
        "",
        "short-but-random-Zx81",
        "dev-only-insecure-key-change-me",
        "replace-with-50-random-characters",  # .env.example's placeholder
        "django-insecure-" + "k2" * 30,
        "ab" * 40,  # long but only two distinct characters
    ],
)
def test_production_refuses_a_missing_or_development_secret_key(key):
    result = import_production({} if key is None else {"SECRET_KEY": key})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is unset or not secret enough for production" in result.stderr


def test_production_starts_with_a_real_key_from_the_environment_or_a_file(tmp_path):
    assert import_production({"SECRET_KEY": GOOD_KEY}).stdout.strip() == str(len(GOOD_KEY))
    key_file = tmp_path / "secret_key"
    key_file.write_text(GOOD_KEY + "\n", encoding="utf-8")
    result = import_production({"SECRET_KEY_FILE": str(key_file), "SECRET_KEY": "dev-only-insecure-key-change-me"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(GOOD_KEY))
    # A key file holding the development key is refused just the same.
    key_file.write_text("dev-only-insecure-key-change-me", encoding="utf-8")
    assert import_production({"SECRET_KEY_FILE": str(key_file)}).returncode != 0


# --- compose: every variable is one the code reads -------------------------------------------


def variables_the_code_reads() -> set[str]:
    names = set()
    pattern = re.compile(r"env(?:\.\w+|_secret)\(\s*\"([A-Z][A-Z0-9_]*)\"")
    for path in [*(ROOT / "config").rglob("*.py"), *(ROOT / "supervision").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        names.update(pattern.findall(text))
        for name in re.findall(r"env_secret\(\s*\"([A-Z][A-Z0-9_]*)\"", text):
            names.add(f"{name}_FILE")
    return names | {"DJANGO_SETTINGS_MODULE"}


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is installed by make setup")
def test_compose_and_env_example_name_only_variables_the_code_reads(tmp_path):
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(["docker-compose", "config"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    known = variables_the_code_reads()
    assert {"CHANGE_LAYER_INBOX", "CHANGE_LAYER_DIR", "SECRET_KEY_FILE"} <= known  # the scan works
    # Used by compose itself (the db service and interpolation), passed along by env_file.
    compose_only = {"POSTGRES_PASSWORD"}
    for service in ("web", "worker", "beat", "hj212"):
        names = set(config["services"][service]["environment"])
        assert names - known - compose_only == set(), service
        mounts = {
            v["target"] if isinstance(v, dict) else v.split(":")[1] for v in config["services"][service]["volumes"]
        }
        env = config["services"][service]["environment"]
        # Every directory the processes share is a volume: uploads, scans and the inbox.
        assert {env["MEDIA_ROOT"], env["CHANGE_LAYER_DIR"], env["CHANGE_LAYER_INBOX"]} <= mounts, service
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert example - known - compose_only == set()


def test_dockerfile_builds_its_assets_with_the_vendor_script():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^FROM node:\S+ AS assets", dockerfile, re.M)
    assert "COPY package.json package-lock.json" in dockerfile
    assert "scripts/vendor_assets.sh" in dockerfile and "scripts/vendor_assets.sh" in makefile
    assert "COPY --from=assets" in dockerfile and "collectstatic" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "node_modules", "var", "static/vendor", ".git"} <= set(ignored)


# --- a clean checkout builds, collects and serves under production settings --------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_checkout(dest: Path) -> None:
    """The tracked files only (as `git clone` gives them): no static/vendor, node_modules, var or .venv."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def fetch(url: str, host: str) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is installed by make setup")
def test_clean_checkout_collects_static_and_serves_the_login_page_in_production(tmp_path):
    src = tmp_path / "src"
    clean_checkout(src)
    assert not (src / "static" / "vendor").exists()
    vendor = subprocess.run(["sh", "scripts/vendor_assets.sh"], cwd=src, capture_output=True, text=True)
    assert vendor.returncode == 0, vendor.stdout + vendor.stderr

    host = "supervision.example.gov.cn"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY", "STATIC_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS=host,
        STATIC_ROOT=str(tmp_path / "collected"),
        PYTHONPATH=str(src),
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
    )
    assert collect.returncode == 0, collect.stderr[-3000:]
    assert (tmp_path / "collected" / "staticfiles.json").exists()

    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=src,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body, headers = fetch(f"{base}/accounts/login/", host)
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, server.stderr.read().decode()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.5)
        assert status == 200, body[-2000:]
        page = body.decode()
        static_urls = set(re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", page))
        assert static_urls, page[:2000]
        for url in static_urls:
            # Every reference went through the manifest: a content hash in the name, served far-future.
            assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
            status, content, headers = fetch(base + url, host)
            assert status == 200 and content, url
            assert "max-age=315360000" in headers.get("Cache-Control", ""), url

        # The map libraries and the source maps they name resolve to hashed, served files too.
        manifest = (tmp_path / "collected" / "staticfiles.json").read_text(encoding="utf-8")
        for name in ("vendor/leaflet/leaflet.js", "vendor/ol/ol.js"):
            hashed = re.search(rf'"{re.escape(name)}": "([^"]+)"', manifest).group(1)
            status, script, _ = fetch(f"{base}/static/{hashed}", host)
            assert status == 200
            source_map = re.search(rb"sourceMappingURL=(\S+)", script).group(1).decode()
            assert re.search(r"\.js\.[0-9a-f]{12}\.map$", source_map), source_map
            map_url = f"{base}/static/{Path(hashed).parent.as_posix()}/{source_map}"
            assert fetch(map_url, host)[0] == 200
        # MEDIA is not served in production: attachments go through the scoped download route.
        assert fetch(f"{base}/media/evidence/x.png", host)[0] == 404
    finally:
        server.terminate()
        server.wait(timeout=30)
