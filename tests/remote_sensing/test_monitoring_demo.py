"""The demo's monitoring data: episodes and a year-on-year decline, each one lead."""

from __future__ import annotations

import pytest

from supervision.cases.models import Lead
from supervision.remote_sensing import demo
from tests.factories import PlanFactory, UnitFactory, square

pytestmark = pytest.mark.django_db


def test_demo_monitoring_raises_one_lead_per_episode_and_declines_year_on_year(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_DIR", tmp_path)
    plan = PlanFactory(code="demo-mon")
    for i in range(3):
        UnitFactory(plan=plan, code=f"ZH2201022{i + 1:04d}", unit_class="key", geom=square(125.30 + 0.02 * i, 43.80))
    for i in range(2):
        UnitFactory(
            plan=plan, code=f"ZH2201023{i + 1:04d}", unit_class="general", geom=square(125.30 + 0.02 * i, 43.85)
        )
    lines = demo._monitoring(plan)
    assert "year-on-year" in lines[0]
    leads = Lead.objects.filter(plan=plan, source="ambient")
    k1 = leads.get(evidence__station="DEMO-AIR-K1")
    assert k1.evidence["days"] == 4 and k1.detections == 4
    assert leads.filter(evidence__station="DEMO-WAT-K3").count() == 1  # two failing samples 10 days apart
    declines = {ld.evidence["station"] for ld in leads.filter(evidence__rule="decline")}
    assert declines == {"DEMO-AIR-G1", "DEMO-WAT-G2"}
    count = leads.count()
    demo._monitoring(plan)  # loading the demo again adds nothing
    assert Lead.objects.filter(plan=plan).count() == count
