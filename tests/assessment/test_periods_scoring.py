"""Pure parts: period parsing and bounds, weighting and ranks."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from supervision.assessment.periods import PeriodError, period_parse, period_previous
from supervision.assessment.scoring import Line, competition_ranks, score_lines


def test_periods_parse_year_quarter_month():
    assert (period_parse("2025").start, period_parse("2025").end) == (date(2025, 1, 1), date(2025, 12, 31))
    q3 = period_parse("2025-Q3")
    assert (q3.kind, q3.start, q3.end, q3.days) == ("quarter", date(2025, 7, 1), date(2025, 9, 30), 92)
    feb = period_parse("2024-02")
    assert (feb.end, feb.days) == (date(2024, 2, 29), 29)
    for bad in ("2025-Q0", "2025-13", "25", "2025-7", ""):
        with pytest.raises(PeriodError):
            period_parse(bad)


def test_period_bounds_are_shanghai_midnights():
    start, end = period_parse("2025-Q3").bounds("Asia/Shanghai")
    assert start.astimezone(UTC) == datetime(2025, 6, 30, 16, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2025, 9, 30, 16, tzinfo=UTC)


def test_overlap_days_and_previous():
    q3 = period_parse("2025-Q3")
    assert q3.overlap_days(date(2025, 8, 16), None) == 46
    assert q3.overlap_days(date(2020, 1, 1), date(2025, 6, 30)) == 0
    assert period_previous("quarter", date(2026, 1, 5)).code == "2025-Q4"
    assert period_previous("month", date(2026, 1, 5)).code == "2025-12"


def test_inapplicable_weight_is_shared_in_proportion():
    # weights 20 (n/a), 30 (1.0), 50 (0.5): applicable 80 → 30×100/80 = 37.5, 50×100/80 = 62.5
    scored, score = score_lines(
        [Line("a", Decimal(20), None), Line("b", Decimal(30), Decimal(1)), Line("c", Decimal(50), Decimal("0.5"))]
    )
    assert [s.effective_weight for s in scored] == [Decimal(0), Decimal("37.5"), Decimal("62.5")]
    assert score == Decimal("68.75")  # 37.5 + 31.25
    assert score_lines([Line("a", Decimal(100), None)])[1] is None


def test_score_rounds_half_up_to_two_decimals():
    # 100 × 1/3 = 33.333… → 33.33; 100 × 2/3 → 66.67
    assert score_lines([Line("a", Decimal(100), Decimal(1) / Decimal(3))])[1] == Decimal("33.33")
    assert score_lines([Line("a", Decimal(100), Decimal(2) / Decimal(3))])[1] == Decimal("66.67")


def test_competition_ranks():
    assert competition_ranks([Decimal(90), Decimal(80), Decimal(90), None, Decimal(70)]) == [1, 3, 1, None, 4]
