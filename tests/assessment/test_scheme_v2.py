"""Scheme version 2: assessment that cannot reward inaction.

Leads count against their division from the moment they are raised; unconfirmed remote-sensing
change in priority units and red lines counts as "suspected"; repeat violations are per offender
(credit code); drill-down lists equal their cells, drafts included; exports keep numeric cells.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from openpyxl import load_workbook

from supervision.assessment import selectors, services
from supervision.assessment.export import export_xlsx
from supervision.assessment.models import AssessmentScheme
from supervision.assessment.officials import official_title
from supervision.assessment.periods import period_parse
from supervision.cases.models import Case, EnforcementTarget, Lead
from supervision.zoning.choices import DivisionKind, UnitClass, division_kind_guess
from tests.factories import DivisionFactory, OverlayFactory, PlanFactory, UnitFactory, square

from .conftest import at

D = Decimal
Q2 = period_parse("2025-Q2")


def _su():
    class Su:
        is_authenticated = is_active = is_superuser = True
        pk = None
        _case_roles = frozenset({"assessor", "bureau_admin"})

    return Su()


@pytest.fixture
def city(db):
    class C:
        pass

    c = C()
    c.plan = PlanFactory()
    c.A = DivisionFactory(adcode="220104", name="朝阳区")
    c.B = DivisionFactory(adcode="220102", name="南关区")
    c.UA = UnitFactory(plan=c.plan, division=c.A, code="ZH22010410001", unit_class=UnitClass.PRIORITY)
    c.UB = UnitFactory(
        plan=c.plan, division=c.B, code="ZH22010210001", unit_class=UnitClass.PRIORITY, geom=square(125.40, 43.80)
    )
    return c


def _raise(city, division, unit, *, raised: str, source="remote_sensing", area_m2=None, x=125.305, **kw) -> Lead:
    lead = Lead.objects.create(
        source=source,
        plan=city.plan,
        division=division,
        unit=unit,
        title="遥感变化",
        geom=Point(x, 43.805, srid=4490),
        detected_at=at(raised),
        last_detected_at=at(raised),
        area_m2=area_m2,
        change_class=1,
        **kw,
    )
    # created_at is auto_now_add: set the moment it was raised.
    Lead.objects.filter(pk=lead.pk).update(created_at=at(raised))
    lead.refresh_from_db()
    return lead


def _v2():
    return AssessmentScheme.objects.get(version=2)


def _cards(city, period=Q2, scheme=None):
    result = services.scores_compute(plan=city.plan, period=period, scheme=scheme or _v2(), check_role=False)
    return {c.division_id: c for c in result.computed}


def test_v2_is_the_default_scheme_and_v1_is_unchanged(db):
    assert services.scheme_resolve().version == 2
    v2 = dict(_v2().indicators.values_list("code", "weight"))
    assert sum(v2.values()) == 100
    assert {"lead_backlog", "repeat_offenders", "red_line_integrity", "bottom_line_attainment"} <= set(v2)
    assert "repeat_violations" not in v2
    assert AssessmentScheme.objects.get(version=1).indicators.count() == 6


def test_old_untouched_leads_score_below_a_district_with_none(city):
    # Three remote-sensing leads raised to 朝阳区 in March and never touched (not even dispatched).
    for day in ("2025-03-03", "2025-03-10", "2025-03-17"):
        _raise(city, city.A, None, raised=day, area_m2=2_000)
    cards = _cards(city)
    a, b = cards[city.A.pk], cards[city.B.pk]
    assert b.score == D("100.00")
    assert a.score < b.score
    backlog = a.lines.get(code="lead_backlog")
    assert (backlog.numerator, backlog.denominator, backlog.value) == (3, 3, D("0"))
    # And in Q1, when their deadlines fell, they are late verifications, not "nothing to verify".
    q1 = _cards(city, period=period_parse("2025-Q1"))[city.A.pk]
    v = q1.lines.get(code="verification_timeliness")
    assert (v.numerator, v.denominator, v.applicable) == (0, 3, True)
    # Version 1 (dispatched leads only) saw nothing: the defect this version fixes.
    v1 = _cards(city, scheme=AssessmentScheme.objects.get(version=1))
    assert v1[city.A.pk].score == v1[city.B.pk].score


def test_a_lead_dispatched_in_time_keeps_its_dispatch_deadline(city):
    lead = _raise(city, city.A, None, raised="2025-04-01 09:00", source="complaint")
    Lead.objects.filter(pk=lead.pk).update(
        status="dismissed",
        dismiss_code="no_change",
        dismiss_reason="现场无变化",
        dispatched_at=at("2025-04-02 09:00"),
        verification_due_at=at("2025-04-20 23:59:59"),
        concluded_at=at("2025-04-18 10:00"),
    )
    late = _raise(city, city.A, None, raised="2025-04-01 09:00", source="complaint")
    # Dispatched only after its 7 days ran out: late from the 8th, whatever deadline it got then.
    Lead.objects.filter(pk=late.pk).update(
        status="dismissed",
        dismiss_code="no_change",
        dismiss_reason="现场无变化",
        dispatched_at=at("2025-05-01 09:00"),
        verification_due_at=at("2025-05-10 23:59:59"),
        concluded_at=at("2025-05-09 10:00"),
    )
    v = _cards(city)[city.A.pk].lines.get(code="verification_timeliness")
    assert (v.numerator, v.denominator) == (1, 2)
    assert v.numerator_ids == [lead.pk] and v.denominator_ids == sorted([lead.pk, late.pk])


def test_unconfirmed_change_in_a_priority_unit_counts_as_suspected(city):
    _raise(city, city.A, city.UA, raised="2025-05-10", area_m2=124_000)  # 12.4 ha, untouched
    damage = _cards(city)[city.A.pk].lines.get(code="priority_unit_damage")
    # 0.5 × 12.4 ha = 6.2 ha of the 10 ha threshold.
    assert (damage.numerator, damage.value) == (D("6.2"), D("0.38"))
    v1 = _cards(city, scheme=AssessmentScheme.objects.get(version=1))[city.A.pk].lines.get(code="priority_unit_damage")
    assert v1.value == 1  # version 1 counted confirmed change only


def test_red_line_change_counts_against_integrity(city):
    OverlayFactory(plan=city.plan, kind="red_line", geom=square(125.30, 43.80, 0.02))
    _raise(
        city, city.A, city.UA, raised="2025-05-10", area_m2=20_000, status="confirmed", concluded_at=at("2025-06-01")
    )
    _raise(city, city.A, city.UA, raised="2025-05-11", area_m2=20_000)  # suspected
    _raise(city, city.B, city.UB, raised="2025-05-12", area_m2=50_000, x=125.405)  # outside the red line
    cards = _cards(city)
    red = cards[city.A.pk].lines.get(code="red_line_integrity")
    # 2 ha confirmed + 0.5 × 2 ha suspected = 3 ha of 5 ha → 1 − 0.6.
    assert (red.numerator, red.value) == (D("3"), D("0.4"))
    assert cards[city.B.pk].lines.get(code="red_line_integrity").value == 1


def _target(credit: str, division, unit) -> EnforcementTarget:
    return EnforcementTarget.objects.create(
        name=f"企业{credit[-2:]}",
        credit_code=credit,
        location=Point(125.3, 43.8, srid=4490),
        division=division,
        unit=unit,
    )


def _case(city, division, unit, target, opened: str, n: int) -> Case:
    lead = _raise(city, division, unit, raised=opened, source="complaint", status="confirmed", concluded_at=at(opened))
    return Case.objects.create(
        lead=lead,
        number=f"R-{n}",
        title="案件",
        plan=city.plan,
        unit=unit,
        division=division,
        target=target,
        opened_at=at(opened),
    )


def test_repeat_violations_are_counted_per_offender_not_per_unit(city):
    other_unit = UnitFactory(
        plan=city.plan, division=city.A, code="ZH22010420001", unit_class=UnitClass.KEY, geom=square(125.32, 43.80)
    )
    offender = _target("91220104MA00000001", city.A, city.UA)
    _case(city, city.A, city.UA, offender, "2025-01-10 09:00", 1)
    # The same company again, in another unit: a repeat offender the per-unit count missed.
    again = _case(city, city.A, other_unit, offender, "2025-05-10 09:00", 2)
    _case(city, city.A, other_unit, _target("91220104MA00000002", city.A, other_unit), "2025-05-11 09:00", 3)
    line = _cards(city)[city.A.pk].lines.get(code="repeat_offenders")
    assert (line.numerator, line.denominator, line.numerator_ids) == (1, 2, [again.pk])


def test_a_draft_drill_down_equals_its_cell_until_recomputed(city):
    _raise(city, city.A, None, raised="2025-03-03")
    card = _cards(city)[city.A.pk]
    line = card.lines.get(code="lead_backlog")
    # A lead raised after the computation does not slip into the list of the stored cell.
    _raise(city, city.A, None, raised="2025-03-04")
    for side in ("numerator", "denominator"):
        _, rows, frozen = selectors.drilldown(user=_su(), scorecard=card, code="lead_backlog", side=side)
        assert not frozen
        assert rows.count() == getattr(line, side) == 1
    card = _cards(city)[city.A.pk]
    _, rows, _ = selectors.drilldown(user=_su(), scorecard=card, code="lead_backlog", side="numerator")
    assert rows.count() == card.lines.get(code="lead_backlog").numerator == 2


def test_export_cells_are_numeric_and_ties_share_a_rank(city):
    c = DivisionFactory(adcode="220105", name="二道区")
    UnitFactory(plan=city.plan, division=c, code="ZH22010510001", geom=square(125.50, 43.80))
    _raise(city, city.A, None, raised="2025-03-03")
    _cards(city)
    wb = load_workbook(io.BytesIO(export_xlsx(plan_code=city.plan.code, period_code="2025-Q2", status="draft")))
    ws = wb["考核结果"]
    header = [cell.value for cell in ws[1]]
    assert header[:2] == ["排名", "行政区划代码"] and "得分" in header
    rows = [[cell.value for cell in r] for r in ws.iter_rows(min_row=2)]
    score_col = header.index("得分")
    assert all(isinstance(r[score_col], (int, float)) for r in rows)
    assert sorted(r[0] for r in rows) == [1, 1, 3]  # 南关区 and 二道区 tie at 100


@pytest.mark.parametrize(
    "adcode, name, kind, head, deputy",
    [
        ("220104", "朝阳区", DivisionKind.DISTRICT, "朝阳区区长", "朝阳区副区长（分管生态环境）"),
        ("220122", "农安县", DivisionKind.COUNTY, "农安县县长", "农安县副县长（分管生态环境）"),
        ("220182", "榆树市", DivisionKind.COUNTY_CITY, "榆树市市长", "榆树市副市长（分管生态环境）"),
        ("220183", "", DivisionKind.COUNTY_CITY, "市长", "副市长（分管生态环境）"),
    ],
)
def test_officials_titles_follow_the_division_type(adcode, name, kind, head, deputy):
    assert division_kind_guess(adcode=adcode, name=name) == kind
    assert official_title(role="government_head", division_name=name, division_kind=kind) == head
    assert official_title(role="deputy_head_environment", division_name=name, division_kind=kind) == deputy


def test_demo_untouched_leads_lower_chaoyangs_score(city):
    """The demo's quarter under way: 朝阳区's untouched scan leads (one 12.4 ha in a priority unit) cost it points."""
    from django.utils import timezone

    from supervision.assessment.demo import demo_load

    city.plan.code = "changchun-2024"
    city.plan.save()
    lines = demo_load()
    today = timezone.localdate()
    current = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    cards = {
        c.division_id: c
        for c in services.scores_compute(
            plan=city.plan, period=services.period_resolve(current), check_role=False
        ).computed
    }
    assert cards[city.A.pk].score < cards[city.B.pk].score
    assert any("朝阳区" in line and "1 untouched leads" in line for line in lines)
    lead = Lead.objects.get(division=city.A)
    assert (lead.status, lead.area_m2, lead.unit) == ("new", 124_000, city.UA)
    assert (timezone.localdate() - timezone.localdate(lead.created_at)).days == 240
    assert demo_load()[-3:] == lines[-3:] and Lead.objects.filter(division=city.A).count() == 1  # idempotent
    assert any(line.startswith("assessment: bottom lines 2025:") for line in lines)
