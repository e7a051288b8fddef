"""Monitoring: station/reading import, exceedance leads in key units, decline leads in general units."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
import rasterio
from affine import Affine
from django.core.management import call_command
from pyproj import Transformer

from supervision.cases.models import Lead
from supervision.errors import ImportRefused
from supervision.remote_sensing.models import MonitoringReading, MonitoringStation, UnitZonalStat
from supervision.remote_sensing.services.monitoring import (
    grid_import,
    monitoring_evaluate,
    monitoring_evaluate_all,
    readings_import,
    stations_import,
)
from tests.factories import PlanFactory, UnitFactory, square

pytestmark = pytest.mark.django_db

END = date(2024, 6, 30)  # periods: 2024-06-01..06-30 and 2024-05-02..05-31 (30 days)


@pytest.fixture
def units(db):
    plan = PlanFactory(code="mon-test")
    return {
        "plan": plan,
        "key": UnitFactory(plan=plan, code="ZH22010220001", unit_class="key", geom=square(125.30, 43.80)),
        "general": UnitFactory(plan=plan, code="ZH22010230001", unit_class="general", geom=square(125.32, 43.80)),
        "priority": UnitFactory(plan=plan, code="ZH22010210001", unit_class="priority", geom=square(125.34, 43.80)),
    }


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def stations(units, tmp_path):
    csv_path = _write(
        tmp_path / "stations.csv",
        "站点编码,站点名称,要素,经度,纬度,目标\n"
        "A-KEY,重点区空气站,air,125.305,43.805,II\n"
        "W-KEY,重点区水质断面,地表水,125.306,43.806,III\n"
        "A-GEN,一般区空气站,空气,125.325,43.805,\n"
        "A-PRI,优先区空气站,air,125.345,43.805,I\n",
    )
    report = stations_import(path=csv_path)
    assert (report.created, report.updated) == (4, 0)
    return csv_path


def _readings(tmp_path, rows):
    lines = ["station,parameter,date,value"] + [",".join(map(str, r)) for r in rows]
    return _write(tmp_path / "readings.csv", "\n".join(lines) + "\n")


def _days(start: date, n: int):
    return [start + timedelta(days=i) for i in range(n)]


def test_station_import_is_all_or_nothing(units, tmp_path):
    bad = _write(
        tmp_path / "bad.csv",
        "code,name,medium,lon,lat,target_grade\nS1,one,air,125.3,43.8,II\nS1,dup,air,x,43.8,II\nS3,three,soil,125.3,43.8,II\n",
    )
    with pytest.raises(ImportRefused) as exc:
        stations_import(path=bad)
    problems = exc.value.problems
    assert any(p.startswith("row 3, column code") and "twice" in p for p in problems)
    assert any(p.startswith("row 3, column lon/lat") for p in problems)
    assert any(p.startswith("row 4, column medium") for p in problems)
    assert MonitoringStation.objects.count() == 0


def test_reading_import_checks_parameters_against_the_standards(stations, tmp_path):
    bad = _readings(
        tmp_path,
        [
            ("A-KEY", "PM2.5", "2024-06-01", 80),
            ("A-KEY", "NOPE", "2024-06-01", 1),
            ("ZZZ", "PM10", "2024-06-01", 1),
            ("W-KEY", "COD", "2024-13-01", 1),
            ("A-KEY", "PM10", "2024-06-01", -3),
        ],
    )
    with pytest.raises(ImportRefused) as exc:
        readings_import(path=bad)
    assert [p.split(":")[0] for p in exc.value.problems] == [
        "row 3, column parameter",
        "row 4, column station",
        "row 5, column date",
        "row 6, column value",
    ]
    assert MonitoringReading.objects.count() == 0
    ok = _readings(
        tmp_path,
        [("A-KEY", "pm25", "2024-06-01", 80), ("A-KEY", "O3", "2024-06-01", 170), ("W-KEY", "NH3N", "2024-06-01", 1.2)],
    )
    assert readings_import(path=ok).created == 3
    assert readings_import(path=ok).updated == 3  # upsert on (station, parameter, day, averaging)
    got = set(MonitoringReading.objects.values_list("parameter", "averaging"))
    assert got == {("PM2.5", "24h"), ("O3", "max8h"), ("NH3-N", "sample")}


def test_exceedance_leads_for_stations_in_key_units_only(units, stations, tmp_path):
    rows = []
    for d in _days(date(2024, 6, 1), 30):
        rows.append(("A-KEY", "PM2.5", d, 80 if d.day in (3, 9) else 40))  # 75 µg/m³ grade II daily limit
        rows.append(("A-PRI", "PM2.5", d, 90))  # priority unit: not this rule
        rows.append(("A-GEN", "PM2.5", d, 90))  # general unit: the decline rule, not exceedance
    rows.append(("W-KEY", "NH3-N", "2024-06-10", 1.6))  # class IV worse than III objective
    rows.append(("W-KEY", "NH3-N", "2024-06-11", 0.9))
    readings_import(path=_readings(tmp_path, rows))
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert report.exceedance_leads == 2 and report.created == 2
    pm = Lead.objects.get(evidence__parameter="PM2.5")
    assert pm.source == "monitoring" and pm.unit == units["key"]
    assert pm.evidence["limit"] == 75 and pm.evidence["exceedances"] == [
        {"date": "2024-06-03", "value": 80.0},
        {"date": "2024-06-09", "value": 80.0},
    ]
    assert "2 天" in pm.title and "75" in pm.reason
    water = Lead.objects.get(evidence__parameter="NH3-N")
    assert water.evidence["limit"] == 1.0 and water.evidence["exceedances"] == [{"date": "2024-06-10", "value": 1.6}]
    # Run twice: nothing new.
    again = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert again.created == 0 and Lead.objects.count() == 2


def test_decline_leads_for_general_units_by_margin(units, stations, tmp_path):
    rows = [("A-GEN", "PM2.5", d, 40) for d in _days(date(2024, 5, 2), 30)]
    rows += [("A-GEN", "PM2.5", d, 46) for d in _days(date(2024, 6, 1), 30)]  # +15 %
    rows += [("A-GEN", "PM10", d, 60) for d in _days(date(2024, 5, 2), 30)]
    rows += [("A-GEN", "PM10", d, 63) for d in _days(date(2024, 6, 1), 30)]  # +5 %: below the 10 % margin
    rows += [("A-KEY", "PM2.5", d, v) for d, v in zip(_days(date(2024, 5, 2), 60), [10] * 30 + [30] * 30, strict=False)]
    readings_import(path=_readings(tmp_path, rows))
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert report.decline_leads == 1
    lead = Lead.objects.get(source="monitoring")
    assert lead.unit == units["general"] and lead.evidence["rule"] == "decline"
    assert lead.evidence["mean"] == 46 and lead.evidence["previous_mean"] == 40
    assert lead.evidence["worse_pct"] == 15.0 and lead.evidence["margin_pct"] == 10.0
    assert lead.evidence["period"] == ["2024-06-01", "2024-06-30"]
    # A stricter margin (plan rule via the command) finds PM10 too; the PM2.5 lead is not raised twice.
    call_command(
        "evaluate_monitoring",
        "--plan",
        "mon-test",
        "--period-end",
        "2024-06-30",
        "--period-days",
        "30",
        "--margin-pct",
        "4",
    )
    assert Lead.objects.filter(source="monitoring").count() == 2


def _grid(path, value_fn):
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
    x0, y0 = tr.transform(125.28, 43.83)
    width = height = 60  # 1 km pixels
    data = np.fromfunction(value_fn, (height, width), dtype=np.float32).astype("float32")
    data[0, :] = -9999
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs="EPSG:32651",
        transform=Affine(500, 0, x0, 0, -500, y0),
        nodata=-9999,
    ) as dst:
        dst.write(data, 1)
    return str(path)


def test_gridded_pm25_zonal_means_feed_the_decline_rule(units, tmp_path):
    g1 = grid_import(
        plan=units["plan"],
        path=_grid(tmp_path / "may.tif", lambda r, c: 30 + 0 * r),
        parameter="PM2.5",
        period_start=date(2024, 5, 2),
        period_end=date(2024, 5, 31),
    )
    g2 = grid_import(
        plan=units["plan"],
        path=_grid(tmp_path / "jun.tif", lambda r, c: 36 + 0 * r),
        parameter="pm2.5",
        period_start=date(2024, 6, 1),
        period_end=date(2024, 6, 30),
    )
    stat = UnitZonalStat.objects.get(grid=g2, unit=units["general"])
    assert stat.mean == pytest.approx(36) and stat.valid_pixels > 0
    assert UnitZonalStat.objects.filter(grid=g1, mean__isnull=False).count() == 3
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert report.decline_leads == 1  # general units only; +20 %
    lead = Lead.objects.get()
    assert lead.unit == units["general"] and lead.evidence["basis"] == "网格（面均值）"
    assert lead.evidence["worse_pct"] == pytest.approx(20.0)
    assert lead.geom.geom_type == "MultiPolygon"
    monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert Lead.objects.count() == 1


def test_periodic_job_evaluates_the_period_ending_yesterday(units, stations, tmp_path):
    rows = [("A-KEY", "SO2", d, 200) for d in _days(date(2024, 7, 1), 3)]  # 150 µg/m³ grade II daily
    readings_import(path=_readings(tmp_path, rows))
    assert monitoring_evaluate_all(today=date(2024, 7, 4)) == 1
    assert monitoring_evaluate_all(today=date(2024, 7, 4)) == 0


def test_cli_commands(units, tmp_path, capsys):
    stations_csv = _write(tmp_path / "s.csv", "code,name,medium,lon,lat\nA1,站,air,125.305,43.805\n")
    call_command("import_stations", stations_csv)
    readings_csv = _readings(tmp_path, [("A1", "CO", "2024-06-05", 5.5)])
    call_command("import_readings", readings_csv)
    call_command("evaluate_monitoring", "--plan", "mon-test", "--period-end", "2024-06-30")
    out = capsys.readouterr().out
    assert "stations: 1 created" in out and "readings: 1 created" in out and "1 new leads" in out
    with pytest.raises(SystemExit) as exc:
        call_command("import_readings", _readings(tmp_path, [("NOPE", "CO", "2024-06-05", 1)]))
    assert exc.value.code == 1 and "row 2, column station" in capsys.readouterr().err
