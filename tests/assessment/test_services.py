"""Every default indicator on the hand-made 2025-Q3 scenario (tests/assessment/conftest.py).

Q3 = 2025-07-01 00:00 … 2025-10-01 00:00 Asia/Shanghai (= 2025-06-30T16:00Z … 2025-09-30T16:00Z).

Division A, expected:
  verification_timeliness (20): due in Q3 = L1, L2, L3 (due 09-30 23:59:59, last day), L6, L10 → 5
      (L4 due 10-01 00:30 Shanghai — still 09-30 in UTC — is Q4; L5 is Q2; L7 never dispatched)
      concluded on or before the deadline: L1, L3, L6 → 3 (L2 late, L10 still verifying)      → 3/5 = 0.6
  rectification_timeliness (30): due in Q3 = C1, C2 (due 09-30 23:59:59), C3, C5 → 4
      accepted by the deadline: C1, C2 → 2 (C3 returned, C5 accepted 10-05, after its 09-20 deadline) → 0.5
  closure_rate (15): opened in Q3 = C1, C2, C3, C4 → 4; accepted by 10-01 00:00: C1, C2      → 0.5
  overdue_backlog (15): open at the end = C3, C4, C5 (accepted only 10-05), C6 → 4
      overdue then: C3 (returned, due 09-10), C6 (ordered, due 05-01) → 2; not C4 (due 10-01
      00:30, after the end), not C5 (its events say "submitted" at the end: the clock stopped)
                                                                                  → 1 − 2/4 = 0.5
  repeat_violations (10): opened in Q3 = 4; in a unit with a case accepted in the 365 days
      before: C1, C3, C4 (UA1: C7 accepted 2024-12-01); not C2 (UA2: C8 accepted 2024-06-01,
      414 days before)                                                            → 1 − 3/4 = 0.25
  priority_unit_damage (10): confirmed in Q3 in priority units: L2 0.5 ha + L9 2 ha = 2.5 ha
      (L8 is in a key unit)                                                       → 1 − 2.5/10 = 0.75
  score = 20×0.6 + 30×0.5 + 15×0.5 + 15×0.5 + 10×0.25 + 10×0.75
        = 12 + 15 + 7.5 + 7.5 + 2.5 + 7.5 = 52.00

Division B (not-applicable reweighting):
  verification: no lead due in Q3 → n/a;  rectification: C9 due 10-15 → n/a
  closure 0/1 = 0;  overdue: C9 open, due 10-15 → 1 − 0/1 = 1;  repeat 1 − 0/1 = 1
  damage: LB1 15 ha (confirmed 09-30 23:00; LB2 10-01 00:10 is Q4) → 1 − min(1, 1.5) = 0
  applicable weights 15 + 15 + 10 + 10 = 50 → each ×100/50 = ×2: 30, 30, 20, 20
  score = 30×0 + 30×1 + 20×1 + 20×0 = 50.00
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from supervision.assessment import selectors, services
from supervision.assessment.models import AssessmentScheme, Indicator, Scorecard
from supervision.assessment.periods import period_parse
from supervision.cases.models import Case, CaseEvent
from supervision.errors import Conflict, Forbidden, ServiceError

from .conftest import at

Q3 = period_parse("2025-Q3")
D = Decimal


def lines(card):
    return {ln.code: ln for ln in card.lines.all()}


def compute(scenario, actor=None, period=Q3):
    # These numbers are worked out for scheme version 1 (version 2 is tested in test_scheme_v2.py).
    return services.scores_compute(
        plan=scenario.plan,
        period=period,
        actor=actor,
        check_role=actor is not None,
        scheme=AssessmentScheme.objects.get(version=1),
    )


def card_of(result, division):
    return next(c for c in result.computed if c.division_id == division.pk)


@pytest.mark.django_db
def test_default_scheme_is_shipped_by_the_data_migration():
    scheme = AssessmentScheme.objects.get(version=1)
    weights = dict(scheme.indicators.values_list("code", "weight"))
    assert weights == {
        "verification_timeliness": 20,
        "rectification_timeliness": 30,
        "closure_rate": 15,
        "overdue_backlog": 15,
        "repeat_violations": 10,
        "priority_unit_damage": 10,
    }
    assert scheme.indicators.get(code="priority_unit_damage").params == {"threshold_ha": 10}


def test_every_indicator_of_division_a(scenario):
    card = card_of(compute(scenario), scenario.A)
    ln = lines(card)
    expect = {
        "verification_timeliness": (3, 5, D("0.6"), D("12")),
        "rectification_timeliness": (2, 4, D("0.5"), D("15")),
        "closure_rate": (2, 4, D("0.5"), D("7.5")),
        "overdue_backlog": (2, 4, D("0.5"), D("7.5")),
        "repeat_violations": (3, 4, D("0.25"), D("2.5")),
        "priority_unit_damage": (D("2.5"), 10, D("0.75"), D("7.5")),
    }
    for code, (n, d, value, points) in expect.items():
        assert (ln[code].numerator, ln[code].denominator, ln[code].value, ln[code].points) == (n, d, value, points), (
            code
        )
        assert ln[code].applicable
        assert ln[code].effective_weight == ln[code].weight  # nothing shared out
    assert card.score == D("52.00")
    assert card.status == "draft" and card.version == 1


def test_not_applicable_weights_are_shared_out(scenario):
    card = card_of(compute(scenario), scenario.B)
    ln = lines(card)
    assert not ln["verification_timeliness"].applicable and ln["verification_timeliness"].value is None
    assert not ln["rectification_timeliness"].applicable and ln["rectification_timeliness"].points == 0
    assert (ln["closure_rate"].value, ln["closure_rate"].effective_weight) == (D("0"), D("30"))
    assert (ln["overdue_backlog"].value, ln["overdue_backlog"].effective_weight) == (D("1"), D("30"))
    assert (ln["repeat_violations"].value, ln["repeat_violations"].effective_weight) == (D("1"), D("20"))
    assert (ln["priority_unit_damage"].numerator, ln["priority_unit_damage"].value) == (D("15"), D("0"))
    assert card.score == D("50.00")


def test_quarter_boundary_moves_the_late_night_deadline_into_q4(scenario):
    # L4 (due 2025-10-01 00:30 Shanghai = 2025-09-30T16:30Z) and C4 (same) belong to Q4.
    q4 = period_parse("2025-Q4")
    a = card_of(compute(scenario, period=q4), scenario.A)
    ln = lines(a)
    # Q4 leads due: L4 only (concluded 09-28, on time) → 1/1.
    assert (ln["verification_timeliness"].numerator, ln["verification_timeliness"].denominator) == (1, 1)
    # Q4 cases due: C4 (not accepted) → 0/1.
    assert (ln["rectification_timeliness"].numerator, ln["rectification_timeliness"].denominator) == (0, 1)
    # And in Q3 the deadline at 23:59:59 on the last day counts (L3, C2), as the drill-down shows.
    q3 = card_of(compute(scenario), scenario.A)
    _, rows, _ = selectors.drilldown(
        user=_superuser(), scorecard=q3, code="verification_timeliness", side="denominator"
    )
    ids = set(rows.values_list("id", flat=True))
    assert scenario.L3.pk in ids and scenario.L4.pk not in ids and scenario.L5.pk not in ids


def _superuser():
    class Su:
        is_authenticated = is_active = is_superuser = True
        pk = None
        _case_roles = frozenset({"assessor", "bureau_admin"})

    return Su()


def test_month_and_year_periods(scenario):
    # 2025-09: leads due in September: L3, L6, L10 → on time L3, L6 → 2/3.
    sep = card_of(compute(scenario, period=period_parse("2025-09")), scenario.A)
    v = lines(sep)["verification_timeliness"]
    assert (v.numerator, v.denominator) == (2, 3)
    # 2025: C1…C6 due in 2025 (C7, C8 due 2024) → accepted on time C1, C2 → 2/6.
    year = card_of(compute(scenario, period=period_parse("2025")), scenario.A)
    r = lines(year)["rectification_timeliness"]
    assert (r.numerator, r.denominator) == (2, 6)


def test_compute_twice_updates_the_draft_in_place(scenario):
    first = card_of(compute(scenario), scenario.A)
    second = card_of(compute(scenario), scenario.A)
    assert first.pk == second.pk
    assert Scorecard.objects.filter(division=scenario.A, period_code="2025-Q3").count() == 1
    assert second.lines.count() == 6


def test_threshold_is_configurable_in_a_new_scheme_version(scenario):
    v2 = services.scheme_copy(scheme=AssessmentScheme.objects.get(version=1))
    Indicator.objects.filter(scheme=v2, code="priority_unit_damage").update(params={"threshold_ha": 5})
    card = card_of(services.scores_compute(plan=scenario.plan, period=Q3, scheme=v2, check_role=False), scenario.A)
    # 2.5 ha of 5 ha → 1 − 0.5 = 0.5 → 5 points instead of 7.5 → 52 − 2.5 = 49.50
    assert lines(card)["priority_unit_damage"].value == D("0.5")
    assert card.score == D("49.50")


def test_publish_freezes_values_and_lists(scenario, users):
    card = card_of(compute(scenario), scenario.A)
    published = services.scorecard_publish(scorecard=card, actor=users.assessor)
    assert published.status == "published" and published.published_at
    before = {
        c: (ln.numerator, ln.denominator, ln.value, ln.numerator_ids, ln.denominator_ids)
        for c, ln in lines(published).items()
    }
    assert before["overdue_backlog"][3] == sorted([scenario.C3.pk, scenario.C6.pk])
    assert before["rectification_timeliness"][4] == sorted(
        [scenario.C1.pk, scenario.C2.pk, scenario.C3.pk, scenario.C5.pk]
    )
    assert before["priority_unit_damage"][3] == sorted([scenario.L2.pk, scenario.L9.pk])

    # Later edits to cases: C3 accepted on time after all (backdated) — the published card must not move.
    Case.objects.filter(pk=scenario.C3.pk).update(status="accepted", accepted_at=at("2025-09-05 10:00"))
    CaseEvent.objects.create(case=scenario.C3, from_status="returned", to_status="accepted", at=at("2025-09-05 10:00"))
    result = compute(scenario)
    assert scenario.A.pk not in {c.division_id for c in result.computed}
    assert [c.pk for c in result.skipped if c.division_id == scenario.A.pk] == [published.pk]
    published.refresh_from_db()
    assert published.score == D("52.00")
    after = {
        c: (ln.numerator, ln.denominator, ln.value, ln.numerator_ids, ln.denominator_ids)
        for c, ln in lines(published).items()
    }
    assert after == before
    _, rows, frozen = selectors.drilldown(
        user=users.assessor, scorecard=published, code="overdue_backlog", side="numerator"
    )
    assert frozen and list(rows.values_list("id", flat=True)) == sorted([scenario.C3.pk, scenario.C6.pk])
    # The scheme is now in use and locked.
    assert AssessmentScheme.objects.get(version=1).in_use()


def test_correction_is_a_new_version_with_a_reason(scenario, users):
    card = services.scorecard_publish(scorecard=card_of(compute(scenario), scenario.A), actor=users.admin)
    Case.objects.filter(pk=scenario.C3.pk).update(status="accepted", accepted_at=at("2025-09-05 10:00"))
    CaseEvent.objects.create(case=scenario.C3, from_status="returned", to_status="accepted", at=at("2025-09-05 10:00"))
    with pytest.raises(ServiceError):
        services.scorecard_correct(scorecard=card, reason="  ", actor=users.assessor)
    with pytest.raises(Forbidden):
        services.scorecard_correct(scorecard=card, reason="核查", actor=users.officer_a)
    fix = services.scorecard_correct(scorecard=card, reason="C3 已于 9 月 5 日验收，补录", actor=users.assessor)
    assert (fix.version, fix.status, fix.corrects_id) == (2, "draft", card.pk)
    # With C3 accepted 09-05 (before its 09-10 deadline):
    #   rectification 3/4 = 0.75 → 22.5;  closure 3/4 → 11.25;  overdue: open C4, C5, C6; overdue C6 → 1 − 1/3 → 10
    #   12 + 22.5 + 11.25 + 10 + 2.5 + 7.5 = 65.75
    assert fix.score == D("65.75")
    published = services.scorecard_publish(scorecard=fix, actor=users.assessor)
    card.refresh_from_db()
    assert (card.status, card.score, published.status, published.score) == (
        "superseded",
        D("52.00"),
        "published",
        D("65.75"),
    )
    assert list(card.events.values_list("to_status", flat=True))[-1] == "superseded"


def test_only_assessors_and_admins_compute_and_publish(scenario, users):
    for user in (users.officer_a, users.planner, users.inspector_a):
        with pytest.raises(Forbidden):
            compute(scenario, actor=user)
    card = card_of(compute(scenario, actor=users.assessor), scenario.A)
    with pytest.raises(Forbidden):
        services.scorecard_publish(scorecard=card, actor=users.officer_a)
    services.scorecard_publish(scorecard=card, actor=users.admin)
    with pytest.raises(Conflict):
        services.scorecard_publish(scorecard=card, actor=users.admin)


def test_scheme_in_use_cannot_change(scenario, users):
    scheme = AssessmentScheme.objects.get(version=1)
    line = scheme.indicators.get(code="closure_rate")
    line.weight = D("20")
    line.clean()  # still editable: no published card yet
    services.scorecard_publish(scorecard=card_of(compute(scenario), scenario.A), actor=users.assessor)
    scheme.refresh_from_db()
    line = scheme.indicators.get(code="closure_rate")
    line.weight = D("20")
    with pytest.raises(ValidationError):
        line.clean()
    with pytest.raises(ValidationError):
        line.save()
    with pytest.raises(ValidationError):
        line.delete()
    scheme.name = "改名"
    with pytest.raises(ValidationError):
        scheme.save()
    with pytest.raises(Conflict):
        services.scheme_set_weights(scheme=scheme, weights={"closure_rate": 100})
    # A new version is the way to change it.
    v2 = services.scheme_copy(scheme=AssessmentScheme.objects.get(version=1))
    services.scheme_set_weights(scheme=v2, weights={"closure_rate": 60, "overdue_backlog": 40})
    assert v2.version == 3 and v2.indicators.count() == 2  # version 2 is the shipped default


def test_scheme_weights_must_sum_to_100():
    assert services.scheme_problems(weights={"closure_rate": 60, "overdue_backlog": 30}) == [
        "Indicator weights must sum to 100, not 90."
    ]
    assert "Unknown indicator(s): speed." in services.scheme_problems(weights={"closure_rate": 100, "speed": 0})


def test_officials_get_the_division_card_pro_rata(scenario, users):
    a = card_of(compute(scenario), scenario.A)  # 52.00
    b = card_of(compute(scenario), scenario.B)  # 50.00
    services.scorecard_publish(scorecard=a, actor=users.assessor)
    services.scorecard_publish(scorecard=b, actor=users.assessor)
    ensure = services.official_ensure
    ensure(
        division=scenario.A, name="甲", role="party_secretary", term_start=date(2021, 1, 1), term_end=date(2025, 8, 15)
    )
    ensure(division=scenario.A, name="乙", role="party_secretary", term_start=date(2025, 8, 16))
    ensure(division=scenario.A, name="丙", role="government_head", term_start=date(2022, 1, 1))
    ensure(
        division=scenario.B, name="丁", role="government_head", term_start=date(2023, 1, 1), term_end=date(2025, 7, 31)
    )
    ensure(division=scenario.A, name="丁", role="deputy_head_environment", term_start=date(2025, 8, 1))
    ensure(
        division=scenario.A, name="戊", role="party_secretary", term_start=date(2020, 1, 1), term_end=date(2025, 6, 30)
    )
    rows = selectors.officials_scores(plan_code=scenario.plan.code, period_code="2025-Q3")
    got = {(r.official.name, r.official.division.adcode): (r.overlap_days, r.share, r.attributed_score) for r in rows}
    # Q3 has 31 + 31 + 30 = 92 days.
    assert got == {
        ("甲", "220102"): (46, D("0.5000"), D("26.00")),  # 07-01…08-15 = 31 + 15 = 46 days; 52 × 46/92
        ("乙", "220102"): (46, D("0.5000"), D("26.00")),  # 08-16…09-30 = 16 + 30 = 46 days
        ("丙", "220102"): (92, D("1.0000"), D("52.00")),
        ("丁", "220103"): (31, D("0.3370"), D("16.85")),  # 50 × 31/92 = 16.8478…
        ("丁", "220102"): (61, D("0.6630"), D("34.48")),  # 52 × 61/92 = 34.4782…
    }  # 戊 left before the quarter: not listed
    assert sum(r.attributed_score for r in rows if r.official.name == "丁") == D("51.33")


def test_ranking_ties_share_a_rank(scenario, users):
    for card in compute(scenario).computed:
        services.scorecard_publish(scorecard=card, actor=users.assessor)
    rows = selectors.ranking(plan_code=scenario.plan.code, period_code="2025-Q3")
    assert [(r.rank, r.scorecard.division.adcode, r.scorecard.score) for r in rows] == [
        (1, "220102", D("52.00")),
        (2, "220103", D("50.00")),
    ]


def test_celery_task_runs_twice_safely(scenario):
    from supervision.assessment.tasks import scores_compute_task

    first = scores_compute_task.delay(scenario.plan.pk, "2025-Q3").get()
    second = scores_compute_task.delay(scenario.plan.pk, "2025-Q3").get()
    assert first["computed"] == second["computed"] and len(first["computed"]) == 2
    assert Scorecard.objects.filter(period_code="2025-Q3").count() == 2
