"""`{% bottom_lines plan_code division_id unit_code %}`: the bottom-line status panel for the unit card, the
district page and the map, so the zoning pages show it without importing the assessment app."""

from django import template

from ..selectors import bottom_lines_latest

register = template.Library()


@register.inclusion_tag("web/assessment/_bottom_lines.html")
def bottom_lines(plan_code: str, division_id: int | None = None, unit_code: str | None = None, compact: bool = False):
    rows = bottom_lines_latest(plan_code=plan_code, division_id=division_id, unit_code=unit_code) if plan_code else []
    return {"rows": rows, "compact": compact, "plan_code": plan_code}


@register.inclusion_tag("web/assessment/_bottom_lines_summary.html")
def bottom_lines_summary(plan_code: str):
    """Per district: how many targets are met, off track, without enough data (latest year tracked)."""
    by_division: dict[int, dict] = {}
    for s in bottom_lines_latest(plan_code=plan_code) if plan_code else []:
        d = s.target.division
        row = by_division.setdefault(
            d.pk, {"division": d, "met": 0, "off_track": 0, "insufficient_data": 0, "year": s.period_code}
        )
        row[s.status] += 1
    rows = sorted(by_division.values(), key=lambda r: (-r["off_track"], r["division"].adcode))
    return {"rows": rows, "plan_code": plan_code}
