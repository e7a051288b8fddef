"""Locust in library mode, in a process of its own (locust patches the standard library with gevent).

    python benchmarks/_load_driver.py HOST SCENARIO USERS SECONDS  (credentials in LOAD_TOKEN / LOAD_SESSION)

Prints one JSON line: requests, failures, req/s, p50/p95/max in ms, and the first failure seen.
"""

import json
import os
import sys

import gevent
from locust import FastHttpUser, constant, task
from locust.env import Environment

TOKEN = os.environ.get("LOAD_TOKEN", "")
SESSION = os.environ.get("LOAD_SESSION", "")
PLAN = os.environ.get("LOAD_PLAN", "")
SITE = json.loads(os.environ.get("LOAD_SITE", "null"))


class ApiUser(FastHttpUser):
    wait_time = constant(0)
    scenario = ""

    def get(self, path, **kwargs):
        headers = {"Authorization": f"Token {TOKEN}"}
        with self.client.get(path, headers=headers, name=self.scenario, catch_response=True, **kwargs) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")

    def page(self, path):
        headers = {"Cookie": f"sessionid={SESSION}"}
        with self.client.get(path, headers=headers, name=self.scenario, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")

    @task
    def scenario_step(self):
        if self.scenario == "api_leads":
            self.get("/api/v1/leads/")
        elif self.scenario == "api_leads_200":
            self.get("/api/v1/leads/?page_size=200")
        elif self.scenario == "desk_page":
            self.page("/desk/")
        elif self.scenario == "api_units":
            self.get(f"/api/v1/zoning/units/?plan={PLAN}")
        elif self.scenario == "map_page":
            self.page("/map/")
        elif self.scenario == "siting_post":
            body = {"plan": PLAN, "geometry": SITE, "industry_code": "C2614", "project_type": "new"}
            headers = {"Authorization": f"Token {TOKEN}"}
            with self.client.post(
                "/api/v1/siting-assessments/", json=body, headers=headers, name=self.scenario, catch_response=True
            ) as r:
                if r.status_code != 201:
                    r.failure(f"{r.status_code}: {r.text[:200]}")
        else:
            raise SystemExit(f"unknown scenario {self.scenario}")


def main() -> int:
    host, scenario, users, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    ApiUser.host = host
    ApiUser.scenario = scenario
    env = Environment(user_classes=[ApiUser])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(seconds)
    runner.quit()
    entry = env.stats.get(scenario, "POST" if scenario == "siting_post" else "GET")
    errors = [f"{e.error}" for e in env.stats.errors.values()]
    print(
        json.dumps(
            {
                "scenario": scenario,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "rps": entry.num_requests / seconds,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p95_ms": entry.get_response_time_percentile(0.95),
                "max_ms": entry.max_response_time,
                "first_error": errors[0][:300] if errors else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
