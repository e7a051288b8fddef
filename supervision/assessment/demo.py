"""Demo assessment data: officials of the 11 Changchun districts, bottom lines and their tracking, and draft
scorecards of the last quarters.

Called by `manage.py load_demo` after the zoning, cases and remote-sensing demo steps. Idempotent:
officials are upserted on (division, role, name, term start), bottom lines and statistics on their
natural keys, statuses on (target, period), and the drafts are recomputed in place. Names are
invented (虚构), one per post. The seeds (the plan's text) publish no numeric targets, so every
bottom line and statistic here is illustrative (示意): imported with --illustrative and labelled so.
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from pathlib import Path

from django.db import models
from django.utils import timezone

from supervision.cases.selectors_assessment import leads_all
from supervision.remote_sensing.selectors_assessment import stations_by_division
from supervision.zoning.bottom_lines import bottom_lines_import, statistics_import
from supervision.zoning.models import ZoningPlan
from supervision.zoning.selectors import divisions_of_plan

from . import services
from .bottom_lines import bottom_lines_track
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
    lines += _bottom_lines(plan, [d.adcode for d in divisions], today)
    lines += _chaoyang_untouched(plan, today)
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
        if code == current:
            lines.append(_inaction_line(result.computed))
    return lines


# Illustrative (示意) targets: the plan's text sets staged 环境质量底线 and 资源利用上线 but publishes no numbers.
STAGES = {2025: {"pm25": 35, "good": 85, "water_class": "III"}, 2030: {"pm25": 30, "good": 88, "water_class": "III"}}
# Per district (by position): caps and the 2025 statistic as a share of the cap (two districts over).
OVER_CAP = {"220106": ("water_use", 1.08), "220105": ("energy_use", 1.05)}


def _bottom_lines(plan: ZoningPlan, adcodes: list[str], today: datetime.date) -> list[str]:
    rows, stats = [], []
    water = [(code, adcode) for code, adcode in stations_by_division(medium="water") if adcode in adcodes]
    for i, adcode in enumerate(adcodes):
        caps = {"water_use": 8000 + 1000 * i, "energy_use": 150 + 20 * i, "construction_land": 15000 + 2000 * i}
        for year, stage in STAGES.items():
            rows.append([adcode, "PM2.5年均浓度", year, stage["pm25"], "µg/m³", ""])
            rows.append([adcode, "空气质量优良天数比例", year, stage["good"], "%", ""])
            for code, value in caps.items():
                rows.append([adcode, code, year, round(value * (1.0 if year == 2025 else 0.97), 1), _unit(code), ""])
        for code, cap in caps.items():
            over = OVER_CAP.get(adcode)
            share = over[1] if over and over[0] == code else 0.9 + 0.01 * (i % 5)
            stats.append([adcode, code, 2025, round(cap * share, 1), _unit(code)])
    for station, adcode in water:
        for year, stage in STAGES.items():
            rows.append([adcode, "考核断面水质类别", year, stage["water_class"], "类", station])
    with tempfile.TemporaryDirectory() as tmp:
        targets_csv, stats_csv = Path(tmp) / "bottom_lines.csv", Path(tmp) / "statistics.csv"
        with targets_csv.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["范围编码", "指标", "目标年份", "目标值", "单位", "点位或断面"])
            w.writerows(rows)
        with stats_csv.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["范围编码", "指标", "年份", "统计值", "单位"])
            w.writerows(stats)
        imported = bottom_lines_import(
            path=str(targets_csv), plan_code=plan.code, illustrative=True, source="示意值（演示数据，非正式公布目标）"
        )
        statistics_import(path=str(stats_csv), source="示意值（演示数据）")
    out = [
        f"assessment: {imported.created + imported.updated} bottom-line targets (illustrative: the seeds publish no "
        f"figures) and {len(stats)} statistics; python manage.py track_bottom_lines --plan {plan.code} --year 2025"
    ]
    for year in sorted({2025, today.year}):
        if year > today.year or (year == today.year and today == datetime.date(year, 1, 1)):
            continue
        report = bottom_lines_track(plan=plan, year=year, today=today)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items()))
        out.append(f"assessment: bottom lines {year}: {counts}; {report.warned} warnings")
    return out


def _unit(code: str) -> str:
    return {"water_use": "万立方米", "energy_use": "万吨标准煤", "construction_land": "公顷"}[code]


def _inaction_line(cards) -> str:
    """朝阳区 (or any district) with untouched leads against the districts with none: the score must say so."""
    untouched = {
        row["division_id"]: row["n"]
        for row in leads_all()
        .filter(status="new", division_id__in=[c.division_id for c in cards])
        .values("division_id")
        .annotate(n=models.Count("id"))
    }
    with_leads = sorted((c for c in cards if untouched.get(c.division_id)), key=lambda c: c.division.adcode)
    without = [c.score for c in cards if not untouched.get(c.division_id) and c.score is not None]
    parts = [f"{c.division.name} {c.score} ({untouched[c.division_id]} untouched leads)" for c in with_leads]
    best = f"; districts with none score up to {max(without)}" if without else ""
    return f"assessment: untouched leads count against their district: {', '.join(parts) or 'none'}{best}"


CHAOYANG = "220104"
# Three scan leads 朝阳区 never touched (the case): one a 12.4 ha vegetation loss in a priority unit.
CHAOYANG_LEADS = [
    ("priority", 1, 124_000, "遥感发现植被减少约 12.4 公顷"),
    ("key", 2, 18_000, "遥感发现新增建设用地约 1.8 公顷"),
    ("key", 4, 9_000, "遥感发现挖损/裸土约 0.9 公顷"),
]


def _chaoyang_untouched(plan: ZoningPlan, today: datetime.date) -> list[str]:
    """Raise 朝阳区's three scan leads as if raised eight months ago and never touched since.

    They go through `lead_raise` like any scan lead; only the moment they were raised is set
    back (Lead.created_at, the demo replaying history), so that their deadlines have long
    passed and the district answers for them in every quarter since.
    """
    from django.contrib.gis.geos import Polygon

    from supervision.cases.models import Lead
    from supervision.cases.services.leads import lead_raise
    from supervision.zoning.models import ControlUnit

    raised_on = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=240), datetime.time(9, 0)),
        timezone.get_default_timezone(),
    )
    ids = []
    for n, (unit_class, change_class, area_m2, title) in enumerate(CHAOYANG_LEADS, start=1):
        unit = (
            ControlUnit.objects.filter(plan=plan, division__adcode=CHAOYANG, unit_class=unit_class)
            .order_by("code")
            .first()
        )
        if unit is None:
            continue
        p = unit.geom.point_on_surface
        half = 0.0005 * n
        geom = Polygon.from_bbox((p.x - half, p.y - half, p.x + half, p.y + half))
        geom.srid = unit.geom.srid
        result = lead_raise(
            source="remote_sensing",
            source_key=f"demo:{plan.code}:assessment:chaoyang:{n}",
            plan=plan,
            geom=geom,
            title=title,
            reason="卫星遥感变化检测（演示数据）",
            unit=unit,
            change_class=change_class,
            area_m2=area_m2,
            layer_ref="demo-assessment",
            detected_at=raised_on,
        )
        ids.append(result.lead.pk)
    # Only leads still untouched are moved back; a demo user who has since worked them keeps their history.
    Lead.objects.filter(pk__in=ids, status="new").update(created_at=raised_on)
    if not ids:
        return []
    return [
        f"assessment: 朝阳区 has {len(ids)} scan leads raised {raised_on:%Y-%m-%d} and never touched "
        "(verification deadline long past; one 12.4 ha in a priority unit counts as suspected damage)"
    ]
