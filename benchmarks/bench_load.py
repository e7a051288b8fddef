"""The API and pages under load: gunicorn (3 sync workers) on loopback, locust at concurrency 16.

    .venv/bin/python benchmarks/bench_load.py [--quick] [--leads N] [--seconds S] [--users U]
                                              [--workers W] [--scenarios a,b,...]

In a scratch PostGIS database (bench_load) it loads the demo city's plan (units, overlays,
access list), N leads (3,000; 1,000 with --quick) spread over the units in SQL, a city-wide
officer with a token and a session. Then it starts gunicorn with W sync workers (3, as the
Dockerfile and compose run it) on 127.0.0.1 and, for each scenario in turn (all, or those
named), drives it with U concurrent locust users (16) for S seconds (20; 8 with --quick):

* api_leads:     `GET /api/v1/leads/` (the default page, API_PAGE_SIZE = 100, GeoJSON);
* api_leads_200: `GET /api/v1/leads/?page_size=200` (the desk's lead list, GeoJSON; the goal's figure);
* desk_page:     `GET /desk/` (the officer's desk page);
* api_units:     `GET /api/v1/zoning/units/?plan=…` (a page of units, GeoJSON);
* siting_post:   `POST /api/v1/siting-assessments/` (a polygon site, stored);
* map_page:      `GET /map/` (一张图).

It prints requests/s, p50/p95/max and failures per scenario and the workers' RSS before
and after (memory must stay flat). Goals: ≥ 50 requests/s on the lead list at
concurrency 16, a page of 200 leads ≤ 300 ms (p50, unloaded single request), worker RSS
growth < 50 MB over the run. Exit 1 when a goal is missed or a request failed.
"""

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.pop("CELERY_BROKER_URL", None)

from _django import scratch_database  # noqa: E402

SCENARIOS = ["api_leads", "api_leads_200", "desk_page", "api_units", "siting_post", "map_page"]
GOAL_LEADS_RPS = 50.0
GOAL_PAGE_MS = 300.0
GOAL_RSS_GROWTH_MB = 50.0


def build(connection, n_leads: int) -> dict:
    """The demo plan, n leads over its units (SQL), an officer with a token and a session."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from supervision.cases.services.tokens import token_issue
    from supervision.cases.services.users import user_upsert
    from supervision.zoning.demo import zoning_demo_load

    t0 = time.perf_counter()
    plan = zoning_demo_load()
    with connection.cursor() as cur:
        # Each lead a 60 m square at a random point inside a random unit of the plan.
        cur.execute(
            """
            WITH pts AS (
                SELECT g, u.id AS unit_id, u.division_id,
                       (ST_Dump(ST_GeneratePoints(u.geom, 1, g))).geom AS p
                FROM generate_series(1, %s) g
                CROSS JOIN LATERAL (
                    SELECT id, division_id, geom FROM zoning_controlunit
                    WHERE plan_id = %s ORDER BY md5(id::text || g::text) LIMIT 1
                ) u
            )
            INSERT INTO cases_lead (source, status, plan_id, unit_id, division_id, title, description, reason, geom,
                area_m2, detections, detected_at, last_detected_at, evidence, evidence_status, layer_ref,
                created_at, updated_at, verification_day_kind, dismiss_code, dismiss_reason)
            SELECT 'remote_sensing', 'new', %s, unit_id, division_id, '植被减少 ' || g, '', 'NDVI 下降',
                ST_Multi(ST_Expand(p, 0.0003)), 3600, 1, now() - make_interval(days => g %% 90),
                now() - make_interval(days => g %% 90), '{}'::jsonb, 'ready', '', now(), now(), '', '', ''
            FROM pts
            """,
            [n_leads, plan.pk, plan.pk],
        )
        cur.execute("ANALYZE cases_lead")
        cur.execute(
            "SELECT ST_AsGeoJSON(ST_Transform(ST_Expand(ST_PointOnSurface(geom), 0.002), 4326)) "
            "FROM zoning_controlunit WHERE plan_id = %s ORDER BY code LIMIT 1",
            [plan.pk],
        )
        site = json.loads(cur.fetchone()[0])
    user, _ = user_upsert(username="bench_admin", role="bureau_admin", password=secrets.token_urlsafe(12))
    token = token_issue(user=user)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend a real sign-in records (the lockout backend in front of it authenticates no one).
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    print(
        f"loaded plan {plan.code} ({plan.units.count()} units) and {n_leads:,} leads in {time.perf_counter() - t0:.1f} s"
    )
    return {"token": token.key, "session": session.session_key, "plan": plan.code, "site": site}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(master_pid: int) -> list[float]:
    import psutil

    return [round(c.memory_info().rss / 1048576, 1) for c in psutil.Process(master_pid).children()]


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def single_request_ms(url: str, token: str, n: int = 5) -> float:
    """Median time of n sequential requests (unloaded)."""
    times = []
    for _ in range(n):
        req = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[len(times) // 2]


def run_driver(host: str, scenario: str, users: int, seconds: float, world: dict) -> subprocess.CompletedProcess:
    driver_env = dict(
        os.environ,
        LOAD_TOKEN=world["token"],
        LOAD_SESSION=world["session"],
        LOAD_PLAN=world["plan"],
        LOAD_SITE=json.dumps(world["site"]),
    )
    return subprocess.run(
        [sys.executable, str(HERE / "_load_driver.py"), host, scenario, str(users), str(seconds)],
        env=driver_env,
        capture_output=True,
        text=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--leads", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (the Dockerfile runs 3)")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of " + ", ".join(SCENARIOS)
    )
    args = parser.parse_args()
    n_leads = args.leads or (1000 if args.quick else 3000)
    seconds = args.seconds or (8.0 if args.quick else 20.0)
    scenarios = [name for name in args.scenarios.split(",") if name]
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")

    with scratch_database("load") as connection:
        from django.conf import settings

        world = build(connection, n_leads)
        db_name = connection.settings_dict["NAME"]
        base_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        port = free_port()
        host = f"http://127.0.0.1:{port}"
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DATABASE_URL=f"{base_url}/{db_name}",
            DEBUG="false",
            SECRET_KEY=settings.SECRET_KEY,  # the session cookie was signed with it
            ALLOWED_HOSTS="127.0.0.1",
            CELERY_TASK_ALWAYS_EAGER="true",
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=HERE.parent,
            env=env,
        )
        failed = []
        try:
            wait_up(f"{host}/healthz/")
            # Warm both workers on every scenario (imports, templates, caches) before measuring memory.
            for _ in range(2):
                for scenario in scenarios:
                    run_driver(host, scenario, 2, 2.0, world)
            page_ms = single_request_ms(f"{host}/api/v1/leads/?page_size=200", world["token"])
            rss_start = rss_mb(server.pid)
            print(
                f"gunicorn {args.workers} workers on {host}; {args.users} users, {seconds:.0f} s a scenario; RSS {rss_start} MB"
            )
            print(f"single request, page of 200 leads: {page_ms:.0f} ms (goal ≤ {GOAL_PAGE_MS:.0f} ms)")
            if page_ms > GOAL_PAGE_MS:
                failed.append("page of 200 leads")
            print(
                f"{'scenario':<15} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'requests':>8} {'failed':>6}"
            )
            for scenario in scenarios:
                out = run_driver(host, scenario, args.users, seconds, world)
                if out.returncode:
                    print(out.stderr[-2000:])
                    failed.append(scenario)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{scenario:<15} {r['rps']:>7.1f} {r['p50_ms']:>7.0f} {r['p95_ms']:>7.0f} {r['max_ms']:>7.0f}"
                    f" {r['requests']:>8} {r['failures']:>6}"
                )
                if r["failures"]:
                    print(f"  first failure: {r['first_error']}")
                    failed.append(scenario)
                if scenario == "api_leads_200" and r["rps"] < GOAL_LEADS_RPS:
                    failed.append(f"lead list {r['rps']:.1f} req/s < {GOAL_LEADS_RPS:.0f}")
            rss_end = rss_mb(server.pid)
            growth = max(e - s for s, e in zip(rss_start, rss_end, strict=False)) if rss_end else 0.0
            print(
                f"worker RSS start {rss_start} MB, end {rss_end} MB, largest growth {growth:.1f} MB"
                f" (goal < {GOAL_RSS_GROWTH_MB:.0f} MB)"
            )
            if growth > GOAL_RSS_GROWTH_MB:
                failed.append("worker memory")
        finally:
            server.terminate()
            server.wait(30)
    if failed:
        print("goals missed or failures: " + "; ".join(failed))
        return 1
    print("all goals met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
