"""A plan with one unit whose access list prohibits chemicals (C26), a chemical plant and a brewery in it."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import Point

from supervision.cases.models import EnforcementTarget
from supervision.zoning.models import AccessRequirement
from tests.cases.conftest import credit_code
from tests.factories import DivisionFactory, PlanFactory, UnitFactory, plan_content_editable, square


def permit_scene() -> SimpleNamespace:
    division = DivisionFactory(adcode="220102", name="南关区")
    plan = PlanFactory(code="cems-test", status="effective", effective_date=date(2024, 1, 1))
    unit = UnitFactory(plan=plan, division=division, code="ZH22010210001", geom=square(125.30, 43.80))
    with plan_content_editable(plan):  # the plan is in force: its clause is written as a draft's
        AccessRequirement.objects.create(
            plan=plan,
            level="unit",
            scope_code=unit.code,
            dimension="spatial_layout",
            number="ZH-1",
            text="禁止新建、扩建化工项目",
            action="prohibit",
            industry_codes=["C26"],
        )
    chem = EnforcementTarget.objects.create(
        name="南关化工",
        credit_code=credit_code("220102", 1),
        industry_code="C2614",
        location=Point(125.305, 43.805, srid=4490),
        division=division,
        unit=unit,
    )
    brewery = EnforcementTarget.objects.create(
        name="南关酒厂",
        credit_code=credit_code("220102", 2),
        industry_code="C1512",
        location=Point(125.306, 43.806, srid=4490),
        division=division,
        unit=unit,
    )
    return SimpleNamespace(division=division, plan=plan, unit=unit, chem=chem, brewery=brewery)


@pytest.fixture
def pscene(db):
    return permit_scene()


HEADER = "统一社会信用代码,排放口编码,监测设备编码,污染物代码,小时均值限值,单位,日均值限值,有效期起,有效期止\n"


def limits_csv(tmp_path, rows: list[str], name: str = "limits.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)
