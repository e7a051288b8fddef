"""The API under /api/v1/assessment/ and the drill-down pages: roles on each endpoint."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from supervision.assessment import services
from supervision.assessment.periods import period_parse

BASE = "/api/v1/assessment"


def client_for(user):
    c = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        c.force_authenticate(user)
    return c


@pytest.fixture
def cards(scenario, users):
    """A's card published, B's left a draft."""
    result = services.scores_compute(
        plan=scenario.plan, period=period_parse("2025-Q3"), check_role=False, scheme=services.scheme_resolve(version=1)
    )
    a = next(c for c in result.computed if c.division_id == scenario.A.pk)
    b = next(c for c in result.computed if c.division_id == scenario.B.pk)
    services.scorecard_publish(scorecard=a, actor=users.assessor)
    return a, b


def test_compute_is_for_assessors_and_admins(scenario, users):
    body = {"plan": scenario.plan.code, "period": "2025-Q3", "scheme": 1}
    assert client_for(None).post(f"{BASE}/compute/", body, format="json").status_code in (401, 403)
    for u in (users.officer_a, users.planner, users.inspector_a):
        assert client_for(u).post(f"{BASE}/compute/", body, format="json").status_code == 403
    r = client_for(users.assessor).post(f"{BASE}/compute/", body, format="json")
    assert r.status_code == 200, r.content
    scores = {c["division"]: c["score"] for c in r.json()["computed"]}
    assert scores == {"220102": "52.00", "220103": "50.00"}
    assert (
        client_for(users.admin).post(f"{BASE}/compute/", {**body, "period": "2025-Q5"}, format="json").status_code
        == 400
    )
    r = client_for(users.admin).post(f"{BASE}/compute/", {**body, "run_async": True}, format="json")
    assert r.status_code == 202 and r.json()["queued"]


def test_publish_and_correct_are_for_assessors_and_admins(cards, users):
    a, b = cards
    assert client_for(users.officer_b).post(f"{BASE}/scorecards/{b.pk}/publish/").status_code == 403
    assert client_for(users.planner).post(f"{BASE}/scorecards/{b.pk}/publish/").status_code == 403
    r = client_for(users.admin).post(f"{BASE}/scorecards/{b.pk}/publish/")
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert client_for(users.admin).post(f"{BASE}/scorecards/{b.pk}/publish/").status_code == 409
    assert client_for(users.officer_a).post(f"{BASE}/scorecards/{a.pk}/correct/", {"reason": "x"}).status_code == 403
    assert client_for(users.assessor).post(f"{BASE}/scorecards/{a.pk}/correct/", {}).status_code == 400
    r = client_for(users.assessor).post(f"{BASE}/scorecards/{a.pk}/correct/", {"reason": "补录验收"}, format="json")
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["correction_reason"] == "补录验收"


def test_officers_read_only_their_own_published_card(cards, users):
    a, b = cards
    officer_a, officer_b = client_for(users.officer_a), client_for(users.officer_b)
    r = officer_a.get(f"{BASE}/scorecards/{a.pk}/")
    assert r.status_code == 200
    detail = r.json()
    assert detail["score"] == "52.00" and len(detail["indicators"]) == 6
    assert officer_a.get(f"{BASE}/scorecards/{b.pk}/").status_code == 404  # another division
    assert officer_b.get(f"{BASE}/scorecards/{b.pk}/").status_code == 404  # own, but a draft
    assert officer_b.get(f"{BASE}/scorecards/{a.pk}/").status_code == 404
    assert [c["id"] for c in officer_a.get(f"{BASE}/scorecards/").json()["results"]] == [a.pk]
    assert officer_b.get(f"{BASE}/scorecards/").json()["results"] == []
    assert client_for(users.planner).get(f"{BASE}/scorecards/").status_code == 403
    assert {c["id"] for c in client_for(users.assessor).get(f"{BASE}/scorecards/").json()["results"]} == {a.pk, b.pk}


def test_drill_down_lists_the_cases_behind_each_number(cards, users, scenario):
    a, b = cards
    officer_a = client_for(users.officer_a)
    r = officer_a.get(f"{BASE}/scorecards/{a.pk}/indicators/overdue_backlog/numerator/")
    assert r.status_code == 200
    body = r.json()
    assert body["frozen"] and body["subject"] == "case" and body["count"] == 2
    assert [x["id"] for x in body["results"]] == sorted([scenario.C3.pk, scenario.C6.pk])
    r = officer_a.get(f"{BASE}/scorecards/{a.pk}/indicators/verification_timeliness/denominator/")
    assert r.json()["count"] == 5 and r.json()["subject"] == "lead"
    r = officer_a.get(f"{BASE}/scorecards/{a.pk}/indicators/priority_unit_damage/denominator/")
    assert r.json()["constant"] == "10.0000" and r.json()["results"] == []
    assert (
        client_for(users.officer_b).get(f"{BASE}/scorecards/{a.pk}/indicators/closure_rate/numerator/").status_code
        == 404
    )
    assert officer_a.get(f"{BASE}/scorecards/{a.pk}/indicators/closure_rate/sideways/").status_code == 400
    # A draft's drill-down is live (assessors only).
    r = client_for(users.assessor).get(f"{BASE}/scorecards/{b.pk}/indicators/closure_rate/denominator/")
    assert not r.json()["frozen"] and [x["id"] for x in r.json()["results"]] == [scenario.C9.pk]


def test_ranking_and_officials(cards, users):
    a, b = cards
    services.scorecard_publish(scorecard=b, actor=users.assessor)
    q = {"plan": "cc-test", "period": "2025-Q3"}
    rows = client_for(users.assessor).get(f"{BASE}/ranking/", q).json()
    assert [(r["rank"], r["division"], r["score"]) for r in rows] == [(1, "220102", "52.00"), (2, "220103", "50.00")]
    rows = client_for(users.officer_b).get(f"{BASE}/ranking/", q).json()
    assert [(r["rank"], r["division"]) for r in rows] == [(2, "220103")]  # own row only
    assert client_for(users.officer_b).get(f"{BASE}/ranking/", {**q, "status": "draft"}).status_code == 403
    assert client_for(users.officer_a).get(f"{BASE}/officials/", q).status_code == 403
    assert client_for(users.assessor).get(f"{BASE}/officials/", q).status_code == 200


def test_schemes_endpoint(users):
    r = client_for(users.officer_a).get(f"{BASE}/schemes/")
    assert r.status_code == 200
    v1 = next(s for s in r.json() if s["version"] == 1)
    assert sum(Decimal(i["weight"]) for i in v1["indicators"]) == 100
    assert client_for(users.officer_a).get(f"{BASE}/schemes/1/").json()["version"] == 1


def _whole_file_csv(*, plan_code: str, period_code: str) -> bytes:
    """The CSV as the export wrote it before it streamed: one buffer, encoded with a BOM at the end."""
    from django.utils import translation

    from supervision.assessment.export import score_table
    from supervision.tables import csv_row

    with translation.override("zh-hans"):
        headers, table = score_table(plan_code=plan_code, period_code=period_code)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(csv_row(headers))
    writer.writerows(csv_row(["" if v is None else v for v in row]) for row in table)
    return buf.getvalue().encode("utf-8-sig")


def test_export_csv_and_xlsx_with_chinese_headers(cards, users):
    q = {"plan": "cc-test", "period": "2025-Q3"}
    assert client_for(users.officer_a).get(f"{BASE}/export/", q).status_code == 403
    r = client_for(users.assessor).get(f"{BASE}/export/", {**q, "file_format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv") and r.streaming
    body = b"".join(r.streaming_content)
    assert body == _whole_file_csv(plan_code="cc-test", period_code="2025-Q3")  # streamed: the same bytes
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["排名", "行政区划代码", "行政区", "考核周期"]
    assert "线索核查及时率（verification_timeliness）分子" in rows[0]
    assert rows[1][:3] == ["1", "220102", "南关区"] and rows[1][9] == "52.00"
    assert len(rows) == 2  # published only: B is a draft
    r = client_for(users.assessor).get(f"{BASE}/export/", {**q, "status": "draft"})
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["考核结果", "排名", "领导干部"]
    assert [c.value for c in wb["排名"][1]] == ["排名", "行政区划代码", "行政区", "得分", "状态", "版本"]
    assert wb["排名"].cell(2, 2).value == "220103"
