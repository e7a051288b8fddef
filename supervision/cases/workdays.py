"""China's official working calendar (工作日历) with swapped workdays (调休).

Pure, Django-free. Data: ``data/cn_workcalendar.csv`` (``date,kind,name``) and
``data/cn_workcalendar_years.csv`` (``year,status,source``).

* ``kind = holiday``: a day off (a weekday, or a weekend day inside an official
  holiday block);
* ``kind = workday``: a weekend day that is a swapped working day (调休上班).
* Any date not listed is a working day on Monday–Friday and a rest day on
  Saturday/Sunday.

Coverage: :data:`CALENDAR_YEARS`. Years in :data:`PROVISIONAL_YEARS` only carry
the statutory holidays of 《全国年节及纪念日放假办法》 (2024 revision); the
State Council has not yet published their 调休 schedule, so deadlines in those
years may move. Dates outside :data:`CALENDAR_YEARS` raise
:class:`CalendarRangeError`.

How to extend the calendar each year
-----------------------------------
When the State Council General Office publishes
《国务院办公厅关于YYYY年部分节假日安排的通知》 (usually October–November of
the year before):

1. Append one row per day off (``YYYY-MM-DD,holiday,春节``) for every day of
   each "放假调休" range, and one row per "上班" weekend day
   (``YYYY-MM-DD,workday,春节调休上班``) to ``data/cn_workcalendar.csv``. If the
   year was provisional, first delete its provisional rows.
2. Add or update the year in ``data/cn_workcalendar_years.csv`` with
   ``status=official`` and the notice's title/date as ``source``.
3. If ``chinese-calendar`` already covers the year, extend the cross-check in
   ``tests/cases/test_workdays.py``.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

_DATA_DIR = Path(__file__).resolve().parent / "data"
CALENDAR_FILE = _DATA_DIR / "cn_workcalendar.csv"
YEARS_FILE = _DATA_DIR / "cn_workcalendar_years.csv"

KINDS = ("holiday", "workday")


class CalendarRangeError(ValueError):
    """Raised for a date outside the years the working calendar covers."""


def _load_years() -> tuple[tuple[int, ...], tuple[int, ...]]:
    years, provisional = [], []
    with YEARS_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            year = int(row["year"])
            status = row["status"].strip()
            if status not in ("official", "provisional"):
                raise ValueError(f"bad status {status!r} for {year} in {YEARS_FILE.name}")
            years.append(year)
            if status == "provisional":
                provisional.append(year)
    years.sort()
    if years != list(range(years[0], years[-1] + 1)):
        raise ValueError(f"{YEARS_FILE.name} must list consecutive years, got {years}")
    return tuple(years), tuple(sorted(provisional))


def _load_days() -> dict[date, tuple[str, str]]:
    days: dict[date, tuple[str, str]] = {}
    with CALENDAR_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            d = date.fromisoformat(row["date"].strip())
            kind = row["kind"].strip()
            if kind not in KINDS:
                raise ValueError(f"bad kind {kind!r} for {d} in {CALENDAR_FILE.name}")
            if kind == "workday" and d.weekday() < 5:
                raise ValueError(f"{d} is a weekday; only weekend days can be swapped workdays")
            if d in days:
                raise ValueError(f"duplicate date {d} in {CALENDAR_FILE.name}")
            days[d] = (kind, row["name"].strip())
    return days


CALENDAR_YEARS, PROVISIONAL_YEARS = _load_years()
FIRST_DAY = date(CALENDAR_YEARS[0], 1, 1)
LAST_DAY = date(CALENDAR_YEARS[-1], 12, 31)
_DAYS = _load_days()

for _d in _DAYS:
    if _d.year not in CALENDAR_YEARS:
        raise ValueError(f"{_d} in {CALENDAR_FILE.name} is outside CALENDAR_YEARS {CALENDAR_YEARS}")


def _check(d: date) -> None:
    if not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")
    if not FIRST_DAY <= _as_date(d) <= LAST_DAY:
        raise CalendarRangeError(
            f"{d.isoformat()} is outside the working calendar "
            f"({FIRST_DAY.isoformat()} – {LAST_DAY.isoformat()}); append the State Council "
            "holiday notice for that year to supervision/cases/data/cn_workcalendar.csv"
        )


def _as_date(d: date) -> date:
    # datetime is a subclass of date: compare on the calendar day only
    return date(d.year, d.month, d.day)


def is_workday(d: date) -> bool:
    """True if ``d`` is an official working day in mainland China."""
    _check(d)
    d = _as_date(d)
    entry = _DAYS.get(d)
    if entry is not None:
        return entry[0] == "workday"
    return d.weekday() < 5


def is_provisional(d: date) -> bool:
    """True if ``d`` falls in a year whose 调休 schedule is not yet official."""
    _check(d)
    return d.year in PROVISIONAL_YEARS


def day_name(d: date) -> str | None:
    """The holiday / swapped-workday label of ``d`` (e.g. '春节'), or None."""
    _check(d)
    entry = _DAYS.get(_as_date(d))
    return entry[1] if entry else None


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n`` must be >= 1. Raises :class:`CalendarRangeError` if ``start`` or the
    walk leaves the covered years.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _check(start)
    d = _as_date(start)
    remaining = n
    while remaining:
        d += timedelta(days=1)
        if is_workday(d):
            remaining -= 1
    return d


def working_days_between(a: date, b: date) -> int:
    """Working days in the half-open interval ``(a, b]``.

    So ``working_days_between(s, add_working_days(s, n)) == n``. Returns 0 when
    ``a == b`` and the negated count of ``(b, a]`` when ``b < a``.
    """
    _check(a)
    _check(b)
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -working_days_between(b, a)
    count = 0
    d = a
    while d < b:
        d += timedelta(days=1)
        if is_workday(d):
            count += 1
    return count
