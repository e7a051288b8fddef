"""GET /api/v1/permitting/targets/<id>/compliance/: a target's history at a glance, in scope only."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from supervision.cases.services.users import user_upsert
from supervision.permitting.models import PermitLimit
from supervision.permitting.services.cems import cems_evaluate
from supervision.remote_sensing.services.cems import CemsRow, cems_values_store
from tests.factories import DivisionFactory


def test_compliance_history_lists_limits_cems_hours_and_leads_in_scope(pscene):
    PermitLimit.objects.create(
        target=pscene.chem,
        outlet_code="DA001",
        device_mn="CEMS0001",
        pollutant_code="a21026",
        hourly_limit=50,
        unit="mg/m3",
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    hours = [now - timedelta(hours=h) for h in (3, 2, 1)]
    cems_values_store(
        rows=[
            CemsRow("CEMS0001", "DA001", "a21026", 2061, at, v, None, None, "N")
            for at, v in zip(hours, (40.0, 60.0, 70.0), strict=True)
        ]
        # an hour under calibration (flag C) reads 90 but is no measurement of the discharge
        + [CemsRow("CEMS0001", "DA001", "a21026", 2061, now - timedelta(hours=4), 90.0, None, None, "C")],
        received_at=now,
    )
    cems_evaluate(since=hours[0], now=now)
    admin, _ = user_upsert(username="cadmin", role="bureau_admin", password="pw-long-enough-1")
    client = APIClient()
    client.force_authenticate(admin)
    body = client.get(f"/api/v1/permitting/targets/{pscene.chem.id}/compliance/").json()
    assert body["target"]["credit_code"] == pscene.chem.credit_code
    assert [lim["pollutant_code"] for lim in body["permit_limits"]] == ["a21026"]
    assert body["cems"][0]["hours_reported"] == 4 and body["cems"][0]["hours_above_limit"] == 2
    assert [lead["detections"] for lead in body["cems_exceedances"]] == [2]
    assert body["cems_gaps"] == [] and body["cases"] == [] and body["penalties"] == []

    DivisionFactory(adcode="220103", name="宽城区")
    officer, _ = user_upsert(
        username="kofficer", role="enforcement_officer", division_adcode="220103", password="pw-long-enough-1"
    )
    client.force_authenticate(officer)
    r = client.get(f"/api/v1/permitting/targets/{pscene.chem.id}/compliance/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    client.force_authenticate(None)
    assert client.get(f"/api/v1/permitting/targets/{pscene.chem.id}/compliance/").status_code in (401, 403)


def test_compliance_and_conflict_pages_render_for_an_admin(pscene, client):
    from supervision.permitting.services.eia import eia_approval_record

    from .test_eia import SITE

    eia_approval_record(
        kind="project",
        project_name="精细化工项目",
        geometry=SITE,
        industry_code="C2614",
        authority="长春市生态环境局",
        document_number="长环审〔2025〕5号",
        approved_on=pscene.plan.effective_date,
        target=pscene.chem,
    )
    admin, _ = user_upsert(username="padmin", role="bureau_admin", password="pw-long-enough-1")
    client.force_login(admin)
    page = client.get(f"/targets/{pscene.chem.id}/compliance/").content.decode()
    assert pscene.chem.name in page and "长环审〔2025〕5号" in page
    page = client.get("/eia/conflicts/").content.decode()
    assert "长环审〔2025〕5号" in page and "ZH-1 禁止新建、扩建化工项目" in page
