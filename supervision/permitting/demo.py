"""Demo permits and CEMS: limits for two demo enterprises, one day of hourly data with an exceedance.

The data goes through the same path as the receiver (`CemsStore` on parsed HJ 212
packets), so the demo shows a CEMS lead without a listener running. Deterministic and
idempotent: values and leads are keyed naturally.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from supervision.cases.models import EnforcementTarget
from supervision.remote_sensing.hj212 import packet_parse
from supervision.remote_sensing.hj212.client import hourly_packet

from .services.cems import CemsStore, cems_evaluate
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


def demo_load() -> list[str]:
    targets = {t.name: t for t in EnforcementTarget.objects.filter(name__in=list(DEMO_PERMITS))}
    if not targets:
        return ["permitting: the cases demo targets are not loaded; no demo permits"]
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
    return lines
