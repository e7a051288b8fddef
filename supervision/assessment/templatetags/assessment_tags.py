"""`{% bottom_lines plan_code division_id unit_code %}`: the bottom-line status panel for the unit card, the
district page and the map, so the zoning pages show it without importing the assessment app."""

from django import template

from ..selectors import bottom_lines_latest

register = template.Library()


@register.inclusion_tag("web/assessment/_bottom_lines.html")
def bottom_lines(plan_code: str, division_id: int | None = None, unit_code: str | None = None, compact: bool = False):
    rows = bottom_lines_latest(plan_code=plan_code, division_id=division_id, unit_code=unit_code) if plan_code else []
    return {"rows": rows, "compact": compact, "plan_code": plan_code}
