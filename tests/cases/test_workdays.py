"""Pure tests for the China working calendar (no Django, no database)."""

import csv
from datetime import date, datetime, timedelta

import pytest

from supervision.cases import workdays
from supervision.cases.workdays import (
    CALENDAR_YEARS,
    PROVISIONAL_YEARS,
    CalendarRangeError,
    add_working_days,
    day_name,
    is_provisional,
    is_workday,
    working_days_between,
)

OFFICIAL_YEARS = [y for y in CALENDAR_YEARS if y not in PROVISIONAL_YEARS]


def _days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def test_coverage():
    assert CALENDAR_YEARS == (2024, 2025, 2026, 2027)
    assert PROVISIONAL_YEARS == (2027,)
    assert OFFICIAL_YEARS == [2024, 2025, 2026]


def test_agrees_with_chinese_calendar_every_day_2024_2026():
    chinese_calendar = pytest.importorskip("chinese_calendar")
    mismatches = [
        d for d in _days(date(2024, 1, 1), date(2026, 12, 31)) if is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert mismatches == []


def test_csv_rows_are_well_formed():
    with workdays.CALENDAR_FILE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates) and len(dates) == len(set(dates))
    for r in rows:
        d = date.fromisoformat(r["date"])
        assert r["kind"] in ("holiday", "workday")
        assert r["name"]
        if r["kind"] == "workday":
            assert d.weekday() >= 5, r
    # per-year counts (official notices): days off listed / swapped workdays
    counts = {}
    for r in rows:
        y = int(r["date"][:4])
        counts.setdefault(y, {"holiday": 0, "workday": 0})[r["kind"]] += 1
    assert counts[2024] == {"holiday": 28, "workday": 8}
    assert counts[2025] == {"holiday": 28, "workday": 5}
    assert counts[2026] == {"holiday": 33, "workday": 6}
    assert counts[2027] == {"holiday": 13, "workday": 0}


def test_national_day_2025_swaps():
    assert is_workday(date(2025, 9, 28))  # Sunday, swapped workday
    assert is_workday(date(2025, 10, 11))  # Saturday, swapped workday
    for d in _days(date(2025, 10, 1), date(2025, 10, 8)):
        assert not is_workday(d)
    assert day_name(date(2025, 10, 6)) == "国庆节、中秋节"


def test_deadline_across_national_day_2025():
    # 9-30 (Tue) + 5: Oct 1-8 off; 10-09 (1), 10-10 (2), 10-11 Sat swapped (3),
    # 10-12 Sun off, 10-13 (4), 10-14 (5).
    assert add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    # from Friday 9-26: Sat 9-27 is off, Sun 9-28 is a swapped workday
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert add_working_days(date(2025, 9, 26), 2) == date(2025, 9, 29)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5


def test_spring_festival_2026():
    assert is_workday(date(2026, 2, 14))  # Saturday before the break
    assert is_workday(date(2026, 2, 28))  # Saturday after the break
    for d in _days(date(2026, 2, 15), date(2026, 2, 23)):
        assert not is_workday(d), d
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    # 10 working days from Fri 2-13: 2-14, 2-24..2-27 (4), 2-28, 3-2..3-5 (4)
    assert add_working_days(date(2026, 2, 13), 10) == date(2026, 3, 5)
    assert working_days_between(date(2026, 2, 13), date(2026, 3, 5)) == 10


def test_spring_festival_2024_eve_is_a_workday():
    # the 2024 notice did not make 除夕 (2-9) a day off
    assert is_workday(date(2024, 2, 9))
    assert not is_workday(date(2024, 2, 10))
    assert is_workday(date(2024, 2, 4)) and is_workday(date(2024, 2, 18))


def test_new_year_2026_swap_and_plain_weekends():
    assert not is_workday(date(2026, 1, 2))
    assert is_workday(date(2026, 1, 4))  # Sunday swapped
    assert not is_workday(date(2026, 3, 7))  # ordinary Saturday
    assert is_workday(date(2026, 3, 9))  # ordinary Monday


def test_provisional_2027_has_statutory_days_only():
    assert is_provisional(date(2027, 6, 1)) and not is_provisional(date(2026, 6, 1))
    for d in (
        date(2027, 1, 1),
        date(2027, 2, 5),
        date(2027, 2, 8),
        date(2027, 4, 5),
        date(2027, 6, 9),
        date(2027, 9, 15),
        date(2027, 10, 1),
    ):
        assert not is_workday(d), d
    assert is_workday(date(2027, 2, 9))  # no 调休 known yet


def test_add_working_days_rules():
    assert add_working_days(date(2024, 3, 1), 1) == date(2024, 3, 4)  # Fri -> Mon
    assert add_working_days(datetime(2024, 3, 1, 15, 30), 1) == date(2024, 3, 4)
    with pytest.raises(ValueError):
        add_working_days(date(2024, 3, 1), 0)
    with pytest.raises(TypeError):
        add_working_days(date(2024, 3, 1), 1.5)


def test_round_trip():
    start = date(2024, 1, 1)
    for n in (1, 5, 20, 60, 250):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert working_days_between(end, start) == -n
    assert working_days_between(start, start) == 0


def test_out_of_range():
    with pytest.raises(CalendarRangeError, match="2023-12-31"):
        is_workday(date(2023, 12, 31))
    with pytest.raises(CalendarRangeError):
        is_workday(date(2028, 1, 3))
    with pytest.raises(CalendarRangeError):
        add_working_days(date(2027, 12, 30), 5)  # walks past 2027-12-31
    with pytest.raises(CalendarRangeError):
        working_days_between(date(2024, 1, 1), date(2028, 1, 1))
    assert issubclass(CalendarRangeError, ValueError)
