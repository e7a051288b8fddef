"""Demo permits and CEMS: limits for two demo enterprises, one day of hourly data with an exceedance.

The data goes through the same path as the receiver (`CemsStore` on parsed HJ 212
packets), so the demo shows a CEMS lead without a listener running. Deterministic and
idempotent: values and leads are keyed naturally.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from supervision.cases.models import EnforcementTarget
from supervision.errors import ServiceError
from supervision.remote_sensing.hj212 import packet_parse
from supervision.remote_sensing.hj212.client import hourly_packet
from supervision.zoning.models import ControlUnit

from .models import EiaApproval
from .services.cems import CemsStore, cems_evaluate
from .services.eia import eia_approval_record
from .services.limits import permit_limits_import

# name of a cases demo target → (outlet, MN, [(pollutant, hourly limit, unit)])
DEMO_PERMITS = {
    "长春市宽城区示范热电有限公司": (
        "DA001",
        "22010300000001",
        [("a21026", 35, "mg/m3"), ("a21002", 50, "mg/m3"), ("a34013", 10, "mg/m3")],
    ),
    "长春市南关区示范化工有限公司": ("DW001", "22010200000002", [("w01018", 50, "mg/L"), ("w21003", 5, "mg/L")]),
}
DEMO_DAY = datetime(2024, 11, 3)  # device local time (Beijing)
EXCEED_HOURS = (14, 15, 16)  # the heat plant's SO2 above its limit
DEMO_PLAN = "changchun-2024"
# (document number, project, industry, unit class of the site, approval date)
DEMO_APPROVALS = [
    ("长环审〔2025〕17号", "年产3万吨精细化工中间体项目", "C2614", "priority", date(2025, 6, 18)),
    ("长环审〔2025〕23号", "农产品冷链物流中心项目", "G5960", "general", date(2025, 8, 5)),
]


def _approvals_load() -> list[str]:
    lines = []
    for number, name, industry, unit_class, day in DEMO_APPROVALS:
        approval = EiaApproval.objects.filter(document_number=number).first()
        if approval is None:
            unit = ControlUnit.objects.filter(plan__code=DEMO_PLAN, unit_class=unit_class).order_by("code").first()
            if unit is None:
                lines.append(f"permitting: no {unit_class} unit in plan {DEMO_PLAN}; approval {number} not recorded")
                continue
            try:
                approval = eia_approval_record(
                    kind="project",
                    project_name=name,
                    geometry=unit.geom.point_on_surface,
                    industry_code=industry,
                    authority="长春市生态环境局",
                    document_number=number,
                    approved_on=day,
                )
            except ServiceError as exc:
                lines.append(f"permitting: approval {number} not recorded: {exc.message}")
                continue
        lines.append(f"permitting: EIA approval {number} {approval.project_name}: {approval.verdict}")
    return lines


def demo_load() -> list[str]:
    targets = {t.name: t for t in EnforcementTarget.objects.filter(name__in=list(DEMO_PERMITS))}
    if not targets:
        return ["permitting: the cases demo targets are not loaded; no demo permits", *_approvals_load()]
    header = "统一社会信用代码,排放口编码,监测设备编码,污染物代码,小时均值限值,单位,有效期起,有效期止\n"
    rows = [
        f"{targets[name].credit_code},{outlet},{mn},{code},{limit},{unit},2024-01-01,2028-12-31\n"
        for name, (outlet, mn, pollutants) in DEMO_PERMITS.items()
        if name in targets
        for code, limit, unit in pollutants
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo_permit_limits.csv"
        path.write_text(header + "".join(rows), encoding="utf-8")
        report = permit_limits_import(path=str(path))
    lines = [
        f"permitting: {report.created} new / {report.updated} updated permit limits, "
        f"{len(report.findings)} access-list finding(s)"
    ]
    packets = []
    for name, (_, mn, pollutants) in DEMO_PERMITS.items():
        if name not in targets:
            continue
        for hour in range(24):
            values = {code: round(limit * 0.55, 3) for code, limit, _ in pollutants}
            if name.endswith("热电有限公司") and hour in EXCEED_HOURS:
                values["a21026"] = round(35 * (1.4 + 0.1 * EXCEED_HOURS.index(hour)), 3)
            at = DEMO_DAY + timedelta(hours=hour)
            packets.append(packet_parse(hourly_packet(mn=mn, data_time=at, values=values)))
    CemsStore(evaluate=False)(packets)
    evaluation = cems_evaluate(since=datetime.fromisoformat("2024-11-02T00:00:00+08:00"), gaps=False)
    lines.append(
        f"permitting: {len(packets)} demo CEMS hourly packets stored; {evaluation.episodes} exceedance episode(s), "
        f"{evaluation.leads_created} new CEMS lead(s). Live feed: manage.py hj212_listen --port 9212, then "
        "manage.py cems_simulate --port 9212 --exceed-hours 3"
    )
    return lines + _approvals_load()
