"""EIA approvals: assessed at their approval date, conflicts listed with the deciding clause."""

from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from rest_framework.test import APIClient

from supervision.errors import Conflict, ImportRefused, ServiceError
from supervision.permitting.models import EiaApproval
from supervision.permitting.services.eia import eia_approval_record, eia_approvals_import, eia_conflicts

SITE = Point(125.305, 43.805, srid=4326)


def record(**kw):
    args = {
        "kind": "project",
        "project_name": "年产5万吨精细化工项目",
        "geometry": SITE,
        "industry_code": "C2614",
        "authority": "长春市生态环境局",
        "document_number": "长环审〔2025〕1号",
        "approved_on": date(2025, 3, 1),
    }
    return eia_approval_record(**{**args, **kw})


def test_a_prohibited_industry_is_a_conflict_with_its_deciding_clause(pscene):
    approval = record()
    assert (approval.plan, approval.verdict, approval.conforms) == (pscene.plan, "prohibited", False)
    assert [c["number"] for c in approval.assessment["deciding"]] == ["ZH-1"]
    allowed = record(industry_code="C1512", document_number="长环审〔2025〕2号", project_name="酒厂扩建")
    assert (allowed.verdict, allowed.conforms) == ("allowed", True)
    assert list(eia_conflicts()) == [approval]


def test_approval_before_any_plan_took_effect_and_duplicate_numbers_are_refused(pscene):
    with pytest.raises(ServiceError) as info:
        record(approved_on=date(2023, 6, 1))
    assert info.value.code == "no_plan"
    record()
    with pytest.raises(Conflict):
        record()
    assert EiaApproval.objects.count() == 1


def _csv(tmp_path, rows):
    path = tmp_path / "eia.csv"
    path.write_text(
        "审批类型,项目名称,建设性质,行业代码,审批机关,批复文号,批复日期,经度,纬度\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    return str(path)


def test_import_records_and_reports_conflicts_or_refuses_the_whole_file(tmp_path, pscene, capsys):
    good = [
        "项目环评,精细化工项目,新建,C2614,长春市生态环境局,长环审〔2025〕1号,2025-03-01,125.305,43.805",
        "项目环评,酒厂扩建,改扩建,C1512,长春市生态环境局,长环审〔2025〕2号,2025-04-01,125.306,43.806",
    ]
    bad = [*good, "项目环评,远处项目,新建,C2614,长春市生态环境局,长环审〔2025〕3号,2025-04-01,100.0,30.0"]
    with pytest.raises(ImportRefused) as info:
        eia_approvals_import(path=_csv(tmp_path, bad))
    assert info.value.problems[0].startswith("Row 4, column 经度:")
    assert not EiaApproval.objects.exists()
    call_command("import_eia_approvals", _csv(tmp_path, good))
    out = capsys.readouterr().out
    assert "recorded 2 EIA approvals; 1 in conflict" in out
    assert "conflict: 长环审〔2025〕1号 prohibited: ZH-1" in out


@pytest.mark.django_db
def test_api_lists_conflicts_and_records_an_approval(pscene, django_user_model):
    client = APIClient()
    admin = django_user_model.objects.create_superuser("eia-admin", "a@example.invalid", "pw-long-enough-1")
    client.force_authenticate(admin)
    body = {
        "kind": "project",
        "project_name": "精细化工项目",
        "geom": {"type": "Point", "coordinates": [125.305, 43.805]},
        "industry_code": "C2614",
        "authority": "长春市生态环境局",
        "document_number": "长环审〔2025〕9号",
        "approved_on": "2025-03-01",
        "target": pscene.chem.credit_code,
    }
    r = client.post("/api/v1/permitting/eia-approvals/", body, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["verdict"], r.json()["conforms"], r.json()["target"]) == (
        "prohibited",
        False,
        pscene.chem.credit_code,
    )
    r = client.post("/api/v1/permitting/eia-approvals/", body, format="json")
    assert r.status_code == 409 and r.json()["code"] == "duplicate_document_number"
    r = client.post("/api/v1/permitting/eia-approvals/", {**body, "kind": "other"}, format="json")
    assert r.status_code == 400
    rows = client.get("/api/v1/permitting/eia-approvals/?conflict=true").json()
    rows = rows.get("results", rows)
    assert [(a["document_number"], a["deciding"][0]["number"]) for a in rows] == [("长环审〔2025〕9号", "ZH-1")]


def test_the_site_is_read_in_its_crs_and_impossible_places_are_refused(pscene, django_user_model):
    """The site goes to storage as every API geometry does: `srid`, EWKT's own SRID, ±180/±90."""
    from pyproj import Transformer

    client = APIClient()
    admin = django_user_model.objects.create_superuser("eia-admin2", "b@example.invalid", "pw-long-enough-1")
    client.force_authenticate(admin)
    body = {
        "kind": "project",
        "project_name": "精细化工项目",
        "industry_code": "C2614",
        "authority": "长春市生态环境局",
        "approved_on": "2025-03-01",
    }
    url = "/api/v1/permitting/eia-approvals/"
    # the same place in metres: CGCS2000 3-degree Gauss-Krüger, central meridian 126°E (EPSG:4550)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True).transform(125.305, 43.805)
    r = client.post(
        url,
        {**body, "document_number": "A-1", "geom": {"type": "Point", "coordinates": [x, y]}, "srid": 4550},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["verdict"] == "prohibited"  # found in the same unit as by degrees
    r = client.post(url, {**body, "document_number": "A-2", "geom": f"SRID=4550;POINT({x} {y})"}, format="json")
    assert r.status_code == 201, r.json()
    r = client.post(
        url, {**body, "document_number": "A-3", "geom": f"SRID=4550;POINT({x} {y})", "srid": 4326}, format="json"
    )
    assert r.status_code == 400 and r.json()["problems"] == ["srid: 场址 WKT 中的 SRID 与 srid 参数不一致。"]
    # metres sent as degrees: refused with why, nothing written
    r = client.post(
        url, {**body, "document_number": "A-4", "geom": {"type": "Point", "coordinates": [x, y]}}, format="json"
    )
    assert r.status_code == 400
    assert r.json()["problems"] == ["geom: 经度必须在 ±180 度以内，纬度必须在 ±90 度以内。"]  # Chinese by default
    assert sorted(EiaApproval.objects.values_list("document_number", flat=True)) == ["A-1", "A-2"]
