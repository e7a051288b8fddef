"""Deadlines in calendar or working days, as the end of the local day they fall on.

"Within 5 working days" counted from today ends at 23:59:59 (Asia/Shanghai, TIME_ZONE)
of the 5th working day after today; China's holidays and swapped workdays (调休) come
from `workdays`. The result is an aware datetime stored as `*_due_at`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.errors import ServiceError

from . import workdays
from .choices import DayKind

END_OF_DAY = time(23, 59, 59)


def end_of_local_day(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, END_OF_DAY), timezone.get_default_timezone())


def due_date(*, start: date, days: int, day_kind: str) -> date:
    """The last day of a period of `days` calendar or working days after `start`."""
    if days < 1:
        raise ServiceError(_("A deadline needs at least 1 day, got %(days)s.") % {"days": days})
    if day_kind == DayKind.CALENDAR:
        return start + timedelta(days=days)
    if day_kind == DayKind.WORKING:
        try:
            return workdays.add_working_days(start, days)
        except workdays.CalendarRangeError as exc:
            raise ServiceError(str(exc)) from exc
    raise ServiceError(_("Unknown day kind '%(day_kind)s' (calendar or working).") % {"day_kind": day_kind})


def deadline_resolve(
    *, now: datetime, days: int | None = None, day_kind: str = DayKind.CALENDAR, on: date | None = None
) -> tuple[datetime, str]:
    """(due_at, day_kind) from either a count of days or an explicit last day; refuses the past."""
    today = timezone.localdate(now)
    if on is not None:
        if days is not None:
            raise ServiceError(_("Give either a number of days or a date for the deadline, not both."))
        if on < today:
            raise ServiceError(
                _("The deadline %(value)s is in the past (today is %(value2)s).")
                % {"value": on.isoformat(), "value2": today.isoformat()}
            )
        return end_of_local_day(on), DayKind.CALENDAR
    if days is None:
        raise ServiceError(_("A deadline is required: give a number of days (and calendar or working) or a date."))
    return end_of_local_day(due_date(start=today, days=days, day_kind=day_kind)), day_kind
