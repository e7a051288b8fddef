"""Operations follow the version: a lead raised under one version shows its place's class in the version now in force."""

import datetime

import pytest

from supervision.zoning.models import ControlUnit
from supervision.zoning.services import plan_file, plan_publish, plan_revise

pytestmark = pytest.mark.django_db


def test_lead_page_shows_the_units_class_in_the_new_version(world, client):
    lead = world.leads["a"]
    draft = plan_revise(from_code="web-city", to_code="web-city-2")
    # The revision turns 南关区's priority unit 01 into a key control unit (another class, another code).
    ControlUnit.objects.filter(plan=draft, code="ZH22010210001").update(code="ZH22010220009", unit_class="key")
    plan_publish(
        plan=plan_file(plan=draft, authority="省厅", number="1号", date=datetime.date(2029, 1, 1)),
        effective_date=datetime.date(2029, 2, 1),
    )
    client.force_login(world.users["officer_a"])
    html = client.get(f"/desk/leads/{lead.pk}/").content.decode()
    lead.refresh_from_db()
    assert lead.plan.code == "web-city" and lead.unit.code == "ZH22010210001"  # never re-pointed
    assert 'id="unit-now"' in html and "web-city-2" in html and "ZH22010220009" in html and "重点管控单元" in html
