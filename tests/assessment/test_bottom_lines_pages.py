"""Bottom lines on the pages and the API: unit card, district page, map, the 跟踪评估 report (page, XLSX, API)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from supervision.assessment.bottom_lines import bottom_lines_track
from supervision.zoning.bottom_lines import bottom_lines_import

from .test_bottom_lines import HEADER, TODAY, _csv, _daily, _station, _user
from .test_bottom_lines import plan as plan  # noqa: F401  (fixture)


@pytest.fixture
def tracked(plan, tmp_path, django_user_model):  # noqa: F811
    bottom_lines_import(
        path=_csv(tmp_path, HEADER + "220104,PM2.5年均浓度,2025,35,µg/m³,\n220102,PM2.5年均浓度,2025,35,µg/m³,\n"),
        plan_code=plan.code,
        illustrative=True,
    )
    _daily(_station("AIR-A", plan.A), date(2025, 1, 1), 365, 50.0)
    _daily(_station("AIR-B", plan.B), date(2025, 1, 1), 365, 20.0)
    bottom_lines_track(plan=plan, year=2025, today=TODAY)
    plan.assessor = _user(django_user_model, "assessor", "assessor")
    plan.officer_a = _user(django_user_model, "officer_a", "enforcement_officer", plan.A)
    return plan


def test_unit_card_district_page_and_map_show_the_status(tracked, client):
    client.force_login(tracked.officer_a)
    card = client.get(f"/map/units/{tracked.code}/ZH22010410001/", HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    html = card.content.decode()
    assert 'data-bottom-lines="1"' in html and 'data-status="off_track"' in html and "示意" in html
    page = client.get(f"/assessment/districts/220104/?plan={tracked.code}")
    assert page.status_code == 200 and 'data-status="off_track"' in page.content.decode()
    # Another district's page is not theirs to read.
    assert client.get(f"/assessment/districts/220102/?plan={tracked.code}").status_code == 404
    client.force_login(tracked.assessor)
    m = client.get(f"/map/?plan={tracked.code}").content.decode()
    assert 'id="map-bottom-lines"' in m and 'data-bottom-lines="2"' in m


def test_report_page_xlsx_and_api(tracked, client):
    client.force_login(tracked.officer_a)
    assert client.get(f"/assessment/report/?plan={tracked.code}&year=2025").status_code == 403
    client.force_login(tracked.assessor)
    page = client.get(f"/assessment/report/?plan={tracked.code}&year=2025")
    assert page.status_code == 200 and 'id="attainment">50.0%' in page.content.decode()
    x = client.get(f"/assessment/report.xlsx?plan={tracked.code}&year=2025")
    assert x.status_code == 200
    assert load_workbook(io.BytesIO(x.content)).sheetnames[0] == "底线目标"
    api = APIClient()
    api.force_authenticate(tracked.assessor)
    r = api.get("/api/v1/assessment/report/", {"plan": tracked.code, "year": 2025})
    assert r.status_code == 200 and r.json()["bottom_lines"]["counts"] == {"met": 1, "off_track": 1}
    bad = api.get("/api/v1/assessment/report/", {"plan": tracked.code, "year": "soon"})
    assert bad.status_code == 400 and "year" in str(bad.json())
    assert api.get("/api/v1/assessment/report/", {"plan": "nope"}).status_code == 404


def test_bottom_line_api_is_scoped_and_tracking_is_for_managers(tracked):
    api = APIClient()
    api.force_authenticate(tracked.officer_a)
    rows = api.get("/api/v1/assessment/bottom-lines/", {"plan": tracked.code, "period": "2025"}).json()
    assert {r["division"] for r in rows} == {"220104"}
    assert rows[0]["status"] == "off_track" and rows[0]["measured_value"] == "50.0000"
    assert api.post("/api/v1/assessment/bottom-lines/track/", {"plan": tracked.code, "year": 2025}).status_code == 403
    api.force_authenticate(tracked.assessor)
    rows = api.get("/api/v1/assessment/bottom-lines/", {"plan": tracked.code, "period": "2025"}).json()
    assert {r["division"] for r in rows} == {"220104", "220102"}
    r = api.post("/api/v1/assessment/bottom-lines/track/", {"plan": tracked.code, "year": 2099}, format="json")
    assert r.status_code == 400 and r.json()["code"] in ("future_year", "invalid")


def test_attainment_drill_down_lists_the_statuses_behind_the_cell(tracked, client):
    from supervision.assessment import services
    from supervision.assessment.periods import period_parse

    card = next(
        c
        for c in services.scores_compute(plan=tracked, period=period_parse("2025"), check_role=False).computed
        if c.division_id == tracked.A.pk
    )
    line = card.lines.get(code="bottom_line_attainment")
    assert (line.numerator, line.denominator) == (0, 1)
    api = APIClient()
    api.force_authenticate(tracked.assessor)
    r = api.get(f"/api/v1/assessment/scorecards/{card.pk}/indicators/bottom_line_attainment/denominator/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["subject"] == "target" and body["count"] == 1
    assert body["results"][0]["status"] == "off_track" and body["results"][0]["division"] == "220104"
    client.force_login(tracked.assessor)
    page = client.get(f"/assessment/scorecards/{card.pk}/drill/bottom_line_attainment/denominator/")
    assert page.status_code == 200 and "PM2.5年均浓度" in page.content.decode()
