"""Demo assessment data: officials of the 11 Changchun districts and a draft scorecard of the last quarter.

Called by `manage.py load_demo` after the zoning and cases demo steps. Idempotent:
officials are upserted on (division, role, name, term start) and the draft is
recomputed in place. Names are invented (虚构), one per post.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from supervision.zoning.models import ZoningPlan
from supervision.zoning.selectors import divisions_of_plan

from . import services
from .choices import OfficialRole
from .officials import official_title
from .periods import period_previous

PLAN_CODE = "changchun-2024"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋"
GIVEN = ["建国", "海燕", "志强", "秀英", "德明", "丽华", "卫东", "春梅", "立新", "玉兰", "振华", "晓东"]
TERM_START = datetime.date(2021, 9, 30)
# One district changes party secretary mid-quarter, so the pro-rata split shows in 2025-Q3.
HANDOVER = datetime.date(2025, 8, 16)


def _name(i: int, j: int) -> str:
    return SURNAMES[(3 * i + 7 * j) % len(SURNAMES)] + GIVEN[(i + 5 * j) % len(GIVEN)]


def demo_load() -> list[str]:
    plan = ZoningPlan.objects.filter(code=PLAN_CODE).first()
    if plan is None:
        return ["assessment: no plan changchun-2024, nothing to do"]
    divisions = list(divisions_of_plan(plan=plan))
    count = 0
    for i, division in enumerate(divisions):

        def title(role: str, _d=division) -> str:
            return official_title(role=role, division_name=_d.name, division_kind=_d.kind)

        secretary_title = title(OfficialRole.PARTY_SECRETARY)
        if i == 0:
            services.official_ensure(
                division=division,
                name=_name(i, 0),
                role=OfficialRole.PARTY_SECRETARY,
                term_start=TERM_START,
                term_end=HANDOVER - datetime.timedelta(days=1),
                title=secretary_title,
            )
            services.official_ensure(
                division=division,
                name=_name(i, 3),
                role=OfficialRole.PARTY_SECRETARY,
                term_start=HANDOVER,
                title=secretary_title,
            )
            count += 2
        else:
            services.official_ensure(
                division=division,
                name=_name(i, 0),
                role=OfficialRole.PARTY_SECRETARY,
                term_start=TERM_START,
                title=secretary_title,
            )
            count += 1
        services.official_ensure(
            division=division,
            name=_name(i, 1),
            role=OfficialRole.GOVERNMENT_HEAD,
            term_start=TERM_START,
            title=title(OfficialRole.GOVERNMENT_HEAD),
        )
        services.official_ensure(
            division=division,
            name=_name(i, 2),
            role=OfficialRole.DEPUTY_HEAD_ENVIRONMENT,
            term_start=TERM_START,
            title=title(OfficialRole.DEPUTY_HEAD_ENVIRONMENT),
        )
        count += 2
    lines = [
        f"assessment: {count} officials (党委书记, 区长/县长/市长, 分管副职; titles by division type) in {len(divisions)} districts"
    ]
    today = timezone.localdate()
    # The quarter under way holds the demo's cases (deadlines counted from today), so its
    # draft cards differ by district; the previous quarter and 2025-Q3 show empty periods.
    current = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    for code in sorted({current, period_previous("quarter", today).code, "2025-Q3"}, reverse=True):
        result = services.scores_compute(plan=plan, period=services.period_resolve(code), check_role=False)
        scores = sorted((c.score or 0, c.division.name) for c in result.computed)
        best = f"best {scores[-1][1]} {scores[-1][0]}, lowest {scores[0][1]} {scores[0][0]}" if scores else ""
        lines.append(
            f"assessment: {code} draft scorecards for {len(result.computed)} districts "
            f"({len(result.skipped)} published left as they are) {best}; "
            f"python manage.py compute_scores --plan {PLAN_CODE} --period {code}"
        )
    return lines
