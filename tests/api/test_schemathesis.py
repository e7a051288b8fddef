"""The OpenAPI schema tells the truth: schemathesis drives every operation of the live app (WSGI,
in-process, on the test PostGIS database) and every response must be no server error and match
the schema (status code, content type, body).

Time-boxed: SCHEMATHESIS_MAX_EXAMPLES examples per operation (default 5; under two minutes on
2 cores). Path ids are mapped onto real objects in the officer's scope so operations reach
their logic instead of answering 404.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from supervision.cases.services import leads as lead_svc
from supervision.cases.services.tokens import token_issue

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def fuzz_world(db, scene, users, make_lead):
    """Leads in every early status, a case, the plan with its units: ids the fuzzer's ids map onto."""
    officer = users["officer"]
    leads = [make_lead() for _ in range(4)] + [make_lead(division="b")]
    lead_svc.lead_dispatch(lead=leads[1], actor=officer, days=3)
    verifying = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=leads[2], actor=officer, days=3), actor=officer
    )
    _, case = lead_svc.lead_confirm(lead=verifying, actor=officer)
    token = token_issue(user=users["admin"])
    return {
        "token": token.key,
        "lead_ids": [lead.pk for lead in leads],
        "case_ids": [case.pk],
        "target_ids": [scene.target_a.pk, scene.target_b.pk],
        "plan": scene.plan.code,
        "unit": scene.unit_a.code,
    }


@pytest.fixture
def api_schema(fuzz_world):
    from config.wsgi import application

    # The WSGI handler closes the connection after each request; the test's transaction lives on it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application, headers=auth(fuzz_world))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def auth(world):
    return {"Authorization": f"Token {world['token']}"}


schema = schemathesis.pytest.from_fixture("api_schema")


def _realistic(case, world):
    """Point generated ids and codes at real objects (the fuzzer keeps everything else)."""
    path = case.operation.path
    params = case.path_parameters or {}
    pool = None
    if path.startswith("/api/v1/leads/{id}"):
        pool = world["lead_ids"]
    elif path.startswith("/api/v1/cases/{id}"):
        pool = world["case_ids"]
    elif path.startswith("/api/v1/targets/{id}"):
        pool = world["target_ids"]
    if pool and isinstance(params.get("id"), int):
        params["id"] = pool[params["id"] % len(pool)]
    if "code" in params and path.startswith("/api/v1/zoning/plans/"):
        params["code"] = world["plan"]
    if "plan" in params and "code" in params:
        params["plan"], params["code"] = world["plan"], world["unit"]
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("plan"), str) and len(body["plan"]) % 2:
        body["plan"] = world["plan"]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case, fuzz_world):
    _realistic(case, fuzz_world)
    case.call_and_validate(headers=auth(fuzz_world), checks=CHECKS)
