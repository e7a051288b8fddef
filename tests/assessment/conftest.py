"""A hand-made scenario for 2025-Q3 (2025-07-01 … 2025-09-30, Asia/Shanghai) with known answers.

Division A (220102 南关区): units UA1 (priority) and UA2 (key).
Division B (220103 宽城区): unit UB1 (priority).
The expected numbers are worked out in tests/assessment/test_services.py.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point

from supervision.cases.models import Case, CaseEvent, Lead, UserProfile
from supervision.zoning.choices import UnitClass
from tests.factories import DivisionFactory, PlanFactory, UnitFactory, square

SH = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(text: str) -> datetime:
    """'2025-09-30 23:59:59' in Asia/Shanghai, as an aware datetime."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M" if ":" in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=SH)


def make_lead(scn, division, *, unit=None, status="new", dispatched=None, due=None, concluded=None, area_m2=None, **kw):
    n = next(_seq)
    fields = dict(
        source="complaint",
        status=status,
        plan=scn.plan,
        division=division,
        unit=unit,
        title=f"线索{n}",
        geom=Point(125.3, 43.8, srid=4490),
        detected_at=at("2025-01-01"),
        last_detected_at=at("2025-01-01"),
        dispatched_at=at(dispatched) if dispatched else None,
        verification_due_at=at(due) if due else None,
        concluded_at=at(concluded) if concluded else None,
        area_m2=area_m2,
    )
    if status == "dismissed":
        fields.update(dismiss_code="no_change", dismiss_reason="现场无变化")
    fields.update(kw)
    return Lead.objects.create(**fields)


def make_case(scn, division, *, unit, opened, due=None, history=(), accepted=None):
    """A case and its events: history is [(status, 'time'), ...] after opening; the last one is its status."""
    n = next(_seq)
    lead = make_lead(scn, division, unit=unit, status="confirmed", concluded="2024-01-01")
    status = history[-1][0] if history else "opened"
    case = Case.objects.create(
        lead=lead,
        number=f"T-{n:05d}",
        title=f"案件{n}",
        status=status,
        plan=scn.plan,
        unit=unit,
        division=division,
        opened_at=at(opened),
        rectification_due_at=at(due) if due else None,
        accepted_at=at(accepted) if accepted else None,
    )
    CaseEvent.objects.create(case=case, from_status="", to_status="opened", at=at(opened))
    prev = "opened"
    for st, when in history:
        CaseEvent.objects.create(case=case, from_status=prev, to_status=st, at=at(when))
        prev = st
    return case


class Scenario:
    pass


@pytest.fixture
def scenario(db):
    s = Scenario()
    s.plan = PlanFactory()
    s.A = DivisionFactory(adcode="220102", name="南关区")
    s.B = DivisionFactory(adcode="220103", name="宽城区")
    s.UA1 = UnitFactory(plan=s.plan, division=s.A, code="ZH22010210001", unit_class=UnitClass.PRIORITY)
    s.UA2 = UnitFactory(
        plan=s.plan, division=s.A, code="ZH22010220001", unit_class=UnitClass.KEY, geom=square(125.32, 43.80)
    )
    s.UB1 = UnitFactory(
        plan=s.plan, division=s.B, code="ZH22010310001", unit_class=UnitClass.PRIORITY, geom=square(125.34, 43.80)
    )

    # --- A: leads (verification_timeliness, priority_unit_damage) ---
    s.L1 = make_lead(
        s,
        s.A,
        unit=s.UA2,
        status="dismissed",
        dispatched="2025-07-01 09:00",
        due="2025-07-10 23:59:59",
        concluded="2025-07-09 10:00",
    )
    s.L2 = make_lead(
        s,
        s.A,
        unit=s.UA1,
        status="confirmed",
        dispatched="2025-08-01 09:00",
        due="2025-08-15 23:59:59",
        concluded="2025-08-20 10:00",
        area_m2=5_000,
    )
    s.L3 = make_lead(
        s,
        s.A,
        unit=s.UA2,
        status="merged",
        dispatched="2025-09-20 09:00",
        due="2025-09-30 23:59:59",
        concluded="2025-09-30 20:00",
        merged_into=s.L1,
    )
    s.L4 = make_lead(
        s,
        s.A,
        unit=s.UA2,
        status="dismissed",
        dispatched="2025-09-25 09:00",
        due="2025-10-01 00:30",
        concluded="2025-09-28 10:00",
    )
    s.L5 = make_lead(
        s,
        s.A,
        unit=s.UA2,
        status="dismissed",
        dispatched="2025-06-20 09:00",
        due="2025-06-30 23:59:59",
        concluded="2025-06-29 10:00",
    )
    s.L6 = make_lead(
        s,
        s.A,
        unit=s.UA2,
        status="dismissed",
        dispatched="2025-08-25 09:00",
        due="2025-09-01 23:59:59",
        concluded="2025-08-30 10:00",
    )
    s.L7 = make_lead(s, s.A, unit=s.UA2, status="new")
    s.L8 = make_lead(
        s,
        s.A,
        unit=s.UA2,
        status="confirmed",
        dispatched="2025-06-10 09:00",
        due="2025-06-25 23:59:59",
        concluded="2025-09-10 10:00",
        area_m2=100_000,
    )
    s.L9 = make_lead(
        s,
        s.A,
        unit=s.UA1,
        status="confirmed",
        dispatched="2025-06-20 09:00",
        due="2025-06-30 23:59:59",
        concluded="2025-07-02 10:00",
        area_m2=20_000,
    )
    s.L10 = make_lead(s, s.A, unit=s.UA2, status="verifying", dispatched="2025-09-01 09:00", due="2025-09-05 23:59:59")

    # --- A: cases ---
    s.C1 = make_case(
        s,
        s.A,
        unit=s.UA1,
        opened="2025-07-05 10:00",
        due="2025-08-05 23:59:59",
        accepted="2025-08-01 10:00",
        history=[
            ("rectification_ordered", "2025-07-05 11:00"),
            ("rectification_submitted", "2025-07-25 10:00"),
            ("accepted", "2025-08-01 10:00"),
        ],
    )
    s.C2 = make_case(
        s,
        s.A,
        unit=s.UA2,
        opened="2025-07-20 10:00",
        due="2025-09-30 23:59:59",
        accepted="2025-09-30 22:00",
        history=[
            ("rectification_ordered", "2025-07-20 11:00"),
            ("rectification_submitted", "2025-09-29 10:00"),
            ("accepted", "2025-09-30 22:00"),
        ],
    )
    s.C3 = make_case(
        s,
        s.A,
        unit=s.UA1,
        opened="2025-08-01 09:00",
        due="2025-09-10 23:59:59",
        history=[
            ("rectification_ordered", "2025-08-01 12:00"),
            ("rectification_submitted", "2025-08-20 10:00"),
            ("returned", "2025-08-25 10:00"),
        ],
    )
    s.C4 = make_case(
        s,
        s.A,
        unit=s.UA1,
        opened="2025-08-10 09:00",
        due="2025-10-01 00:30",
        history=[("rectification_ordered", "2025-08-11 09:00")],
    )
    s.C5 = make_case(
        s,
        s.A,
        unit=s.UA2,
        opened="2025-03-01 09:00",
        due="2025-09-20 23:59:59",
        accepted="2025-10-05 10:00",
        history=[
            ("rectification_ordered", "2025-03-02 09:00"),
            ("rectification_submitted", "2025-09-15 10:00"),
            ("accepted", "2025-10-05 10:00"),
        ],
    )
    s.C6 = make_case(
        s,
        s.A,
        unit=s.UA2,
        opened="2025-02-01 09:00",
        due="2025-05-01 23:59:59",
        history=[("rectification_ordered", "2025-02-02 09:00")],
    )
    s.C7 = make_case(
        s,
        s.A,
        unit=s.UA1,
        opened="2024-09-01 09:00",
        due="2024-11-01 23:59:59",
        accepted="2024-12-01 10:00",
        history=[
            ("rectification_ordered", "2024-09-02 09:00"),
            ("rectification_submitted", "2024-10-20 09:00"),
            ("accepted", "2024-12-01 10:00"),
        ],
    )
    s.C8 = make_case(
        s,
        s.A,
        unit=s.UA2,
        opened="2024-05-01 09:00",
        due="2024-05-20 23:59:59",
        accepted="2024-06-01 10:00",
        history=[
            ("rectification_ordered", "2024-05-02 09:00"),
            ("rectification_submitted", "2024-05-19 09:00"),
            ("accepted", "2024-06-01 10:00"),
        ],
    )

    # --- B ---
    s.C9 = make_case(
        s,
        s.B,
        unit=s.UB1,
        opened="2025-07-15 09:00",
        due="2025-10-15 23:59:59",
        history=[("rectification_ordered", "2025-07-16 09:00")],
    )
    s.LB1 = make_lead(s, s.B, unit=s.UB1, status="confirmed", concluded="2025-09-30 23:00", area_m2=150_000)
    s.LB2 = make_lead(s, s.B, unit=s.UB1, status="confirmed", concluded="2025-10-01 00:10", area_m2=10_000)
    return s


def make_user(django_user_model, username, role, *, division=None, city_wide=False):
    user = django_user_model.objects.create_user(username=username, password="pw-123456")
    if role:
        user.groups.add(Group.objects.get(name=role))
    UserProfile.objects.create(user=user, division=division, city_wide=city_wide)
    return user


@pytest.fixture
def users(scenario, django_user_model):
    class U:
        pass

    u = U()
    u.assessor = make_user(django_user_model, "assessor", "assessor", city_wide=True)
    u.admin = make_user(django_user_model, "bureau", "bureau_admin", city_wide=True)
    u.officer_a = make_user(django_user_model, "officer_a", "enforcement_officer", division=scenario.A)
    u.officer_b = make_user(django_user_model, "officer_b", "enforcement_officer", division=scenario.B)
    u.planner = make_user(django_user_model, "planner", "planner", city_wide=True)
    u.inspector_a = make_user(django_user_model, "inspector_a", "inspector", division=scenario.A)
    return u
