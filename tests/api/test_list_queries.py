"""List endpoints do a constant number of queries per page, whatever the page size."""

import json

import pytest
from django.conf import settings
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


@pytest.mark.django_db
def test_lead_page_from_plain_rows_is_byte_for_byte_the_serializer_page(scene, users, make_lead, client_for):
    """The lead list's fast GeoJSON page (LeadFeaturePage) against LeadFeatureSerializer, for every kind of lead:
    new, overdue, dismissed, merged, confirmed with its case, no unit or target, a layer, odd text, UTC and
    local times, fractional and whole areas."""
    import datetime as dt

    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer

    from supervision.cases import selectors
    from supervision.cases.api import serializers as s
    from supervision.cases.models import Lead

    officer = users["officer"]
    grow(scene, users, make_lead, 12)
    odd = make_lead(
        layer_ref="scan-7",
        area_m2=1234.5,
        change_class=3,
        title='引号 " 反斜杠 \\ 换行\n 分隔\u2028符',
        description="<b>&amp;</b>",
    )
    Lead.objects.filter(pk=odd.pk).update(unit=None, target=None)  # a lead outside every unit
    make_lead(area_m2=3600.0, detected_at=dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC))
    overdue = lead_svc.lead_dispatch(lead=make_lead(), actor=officer, days=3)
    Lead.objects.filter(pk=overdue.pk).update(verification_due_at=timezone.now() - dt.timedelta(days=1))

    def verifying():
        return lead_svc.lead_start_verification(
            lead=lead_svc.lead_dispatch(lead=make_lead(), actor=officer, days=3), actor=officer
        )

    lead_svc.lead_dismiss(lead=verifying(), actor=officer, reason="不属实", reason_code="other")
    lead_svc.lead_merge(lead=verifying(), actor=officer, into_id=make_lead().pk)
    admin = users["admin"]
    queryset = selectors.leads_for(user=admin)
    rows = list(s.LeadFeaturePage.rows(queryset))
    assert len(rows) == Lead.objects.count() >= 18
    fast = s.LeadFeaturePage.encode(rows)
    slow_queryset = (
        queryset.select_related("case")
        .annotate(geom_geojson=s.AsGeoJSON(s.Transform("geom", settings.API_SRID), precision=7))
        .defer("geom")
    )
    slow = JSONRenderer().render(s.LeadFeatureSerializer(slow_queryset, many=True).data)
    assert fast.encode() == slow
    # The fields are LeadSerializer's, in its order.
    assert list(s.LeadFeaturePage.columns) == s.LeadSerializer.Meta.fields
    # And the endpoint answers the same page through the renderer.
    response = client_for("admin").get("/api/v1/leads/?page_size=500")
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert set(body) == {"type", "count", "next", "previous", "features"}
    assert body["features"] == json.loads(slow) and body["count"] == len(rows)


@pytest.mark.django_db
def test_lead_pages_follow_the_list_order_and_past_the_end_is_404(scene, users, make_lead, client_for):
    from supervision.cases.models import Lead

    grow(scene, users, make_lead, 25)
    client = client_for("admin")
    order = list(Lead.objects.order_by("-detected_at", "-id").values_list("pk", flat=True))
    pages = [client.get(f"/api/v1/leads/?page_size=10&page={n}").json() for n in (1, 2, 3)]
    assert [f["id"] for page in pages for f in page["features"]] == order
    assert pages[0]["count"] == 25 and pages[0]["previous"] is None and pages[2]["next"] is None
    assert "page=3" in pages[1]["next"]
    r = client.get("/api/v1/leads/?page_size=10&page=4")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
