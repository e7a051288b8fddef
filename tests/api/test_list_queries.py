"""List endpoints do a constant number of queries per page, whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supervision.cases.services import leads as lead_svc
from tests.factories import UnitFactory, square

LISTS = [
    "/api/v1/leads/?page_size=500",
    "/api/v1/leads/?page_size=500&format=json",
    "/api/v1/cases/?page_size=500",
    "/api/v1/targets/",
    "/api/v1/zoning/units/?page_size=500",
]


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def grow(scene, users, make_lead, n):
    """n more leads (every tenth confirmed into a case) and n more units."""
    officer = users["officer"]
    for i in range(n):
        lead = make_lead()
        if i % 10 == 0:
            lead = lead_svc.lead_start_verification(
                lead=lead_svc.lead_dispatch(lead=lead, actor=officer, days=3), actor=officer
            )
            lead_svc.lead_confirm(lead=lead, actor=officer)
        UnitFactory(plan=scene.plan, division=scene.nanguan, geom=square(125.0 + i * 0.001, 43.0))


@pytest.mark.django_db
def test_list_queries_do_not_grow_with_the_page(scene, users, make_lead, client_for):
    client = client_for("admin")
    grow(scene, users, make_lead, 20)
    client.get("/api/v1/me/")  # the user's roles are read once and kept on the user
    small = {path: queries(client, path) for path in LISTS}
    grow(scene, users, make_lead, 180)
    large = {path: queries(client, path) for path in LISTS}
    assert large == small
    # Counting, the page, the session/auth: a handful, not one per row.
    assert max(large.values()) <= 8, large


@pytest.mark.django_db
def test_lead_page_of_200_with_one_query_budget(scene, users, make_lead, client_for, django_assert_max_num_queries):
    grow(scene, users, make_lead, 200)
    client_for("admin").get("/api/v1/me/")
    with django_assert_max_num_queries(8):
        response = client_for("admin").get("/api/v1/leads/?page_size=200")
    assert len(response.json()["features"]) == 200
