"""Assessment periods: "2025" (year), "2025-Q3" (quarter), "2025-07" (month). No ORM.

A period is a run of whole days [start, end] in the bureau's time zone (TIME_ZONE,
Asia/Shanghai). In SQL it is the half-open instant range [start 00:00, end+1 00:00)
local time, so a deadline at 23:59:59 on the last day of a quarter falls in it and one
at 00:30 the next morning (still the same UTC date) does not.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

PERIOD_RE = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


class PeriodError(ValueError):
    """A period code that is not YYYY, YYYY-Qn or YYYY-MM."""


@dataclass(frozen=True)
class Period:
    kind: str  # year | quarter | month (choices.PeriodKind values)
    code: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: tzinfo | str = "Asia/Shanghai") -> tuple[datetime, datetime]:
        """[start, end_exclusive) as aware datetimes: local midnight of the first day and of the day after the last."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def overlap_days(self, start: date, end: date | None) -> int:
        """Whole days of [start, end] (end None: still running) that fall in this period."""
        lo = max(self.start, start)
        hi = min(self.end, end) if end is not None else self.end
        return max(0, (hi - lo).days + 1)


def period_parse(code: str) -> Period:
    match = PERIOD_RE.match((code or "").strip())
    if not match:
        raise PeriodError(
            _("Period '%(code)s' is not YYYY, YYYY-Qn or YYYY-MM (e.g. 2025, 2025-Q3, 2025-07).") % {"code": code}
        )
    year = int(match["year"])
    if match["quarter"]:
        q = int(match["quarter"])
        first, last = 3 * q - 2, 3 * q
        return Period(
            "quarter", f"{year}-Q{q}", date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
        )
    if match["month"]:
        m = int(match["month"])
        return Period("month", f"{year}-{m:02d}", date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1]))
    return Period("year", f"{year}", date(year, 1, 1), date(year, 12, 31))


def period_previous(kind: str, today: date) -> Period:
    """The last whole period of this kind before the one containing `today`."""
    if kind == "year":
        return period_parse(str(today.year - 1))
    if kind == "quarter":
        q = (today.month - 1) // 3 + 1
        return period_parse(f"{today.year - 1}-Q4" if q == 1 else f"{today.year}-Q{q - 1}")
    if kind == "month":
        return period_parse(f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}")
    raise PeriodError(_("Unknown period kind '%(kind)s'.") % {"kind": kind})
