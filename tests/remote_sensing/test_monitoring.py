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
        rows.append(("A-KEY", "PM2.5", d, 80 if d.day in (3, 5) else 40))  # 75 µg/m³ grade II daily limit
        rows.append(("A-PRI", "PM2.5", d, 90))  # priority unit: not this rule
        rows.append(("A-GEN", "PM2.5", d, 90))  # general unit: the decline rule, not exceedance
    rows.append(("W-KEY", "NH3-N", "2024-06-10", 1.6))  # class IV worse than III objective
    rows.append(("W-KEY", "NH3-N", "2024-06-11", 0.9))
    readings_import(path=_readings(tmp_path, rows))
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert report.exceedance_leads == 2 and report.created == 2
    pm = Lead.objects.get(evidence__parameter="PM2.5")
    assert pm.source == "ambient" and pm.unit == units["key"]
    # Days 3 and 5 (one clean day between, within the 2-day gap) are one episode.
    assert pm.evidence["limit"] == 75 and pm.evidence["exceedances"] == [
        {"date": "2024-06-03", "value": 80.0},
        {"date": "2024-06-05", "value": 80.0},
    ]
    assert pm.detections == 2 and pm.evidence["period"] == ["2024-06-03", "2024-06-05"]
    assert "2 天" in pm.title and "75" in pm.reason
    water = Lead.objects.get(evidence__parameter="NH3-N")
    assert water.evidence["limit"] == 1.0 and water.evidence["exceedances"] == [{"date": "2024-06-10", "value": 1.6}]
    # Run twice: nothing new.
    again = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert again.created == 0 and again.extended == 0 and Lead.objects.count() == 2


def test_exceedance_days_beyond_the_gap_or_after_closing_are_a_new_episode(units, stations, tmp_path):
    from supervision.cases.choices import LeadStatus

    rows = [("A-KEY", "PM2.5", d, 80 if d.day in (3, 4, 8) else 40) for d in _days(date(2024, 6, 1), 30)]
    readings_import(path=_readings(tmp_path, rows))
    monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    leads = list(Lead.objects.order_by("detected_at"))
    assert [ld.evidence["period"] for ld in leads] == [["2024-06-03", "2024-06-04"], ["2024-06-08", "2024-06-08"]]
    # The second lead is concluded; a new exceedance day right after it raises a third lead.
    Lead.objects.filter(pk=leads[1].pk).update(status=LeadStatus.DISMISSED, dismiss_reason="sensor")
    readings_import(path=_readings(tmp_path, [("A-KEY", "PM2.5", "2024-07-01", 81)]))
    report = monitoring_evaluate(plan=units["plan"], period_end=date(2024, 7, 1), period_days=30)
    assert (report.created, report.extended) == (1, 0)
    assert Lead.objects.count() == 3 and Lead.objects.get(pk=leads[1].pk).detections == 1


def test_readings_are_converted_to_the_canonical_unit_or_the_file_is_refused(stations, tmp_path):
    path = _write(
        tmp_path / "units.csv",
        "station,parameter,date,value,unit,hours\n"
        "A-KEY,CO,2024-06-01,1200,µg/m³,24\n"
        "A-KEY,PM2.5,2024-06-01,0.035,mg/m3,\n"
        "W-KEY,NH3-N,2024-06-01,500,ug/L,\n",
    )
    assert readings_import(path=path).created == 3
    got = {r.parameter: (r.value, r.unit, r.hours) for r in MonitoringReading.objects.all()}
    assert got == {
        "CO": (1.2, "mg/m³", 24),
        "PM2.5": (pytest.approx(35.0), "µg/m³", None),
        "NH3-N": (0.5, "mg/L", None),
    }
    bad = _write(
        tmp_path / "bad_units.csv",
        "station,parameter,date,value,unit,hours\n"
        "A-KEY,CO,2024-06-02,1.1,ppm,\n"  # unknown unit
        "A-KEY,CO,2024-06-03,1200,mg/m³,\n"  # µg/m³ sent as mg/m³: impossible
        "A-KEY,PM2.5,2024-06-04,2500,,\n"  # above 2,000 µg/m³
        "W-KEY,COD,2024-06-05,12,mg/m3,\n"  # an air unit for water
        "A-KEY,PM10,2024-06-06,-1,,\n"  # negative
        "A-KEY,PM10,2024-06-07,50,,30\n",  # 30 valid hours in a day
    )
    with pytest.raises(ImportRefused) as exc:
        readings_import(path=bad)
    assert [p.split(":")[0] for p in exc.value.problems] == [
        "row 2, column unit",
        "row 3, column value",
        "row 4, column value",
        "row 5, column unit",
        "row 6, column value",
        "row 7, column hours",
    ]
    assert "ppm" in exc.value.problems[0] and "not physically possible" in exc.value.problems[1]
    assert MonitoringReading.objects.count() == 3  # nothing of the refused file


def test_daily_values_with_too_few_valid_hours_are_not_exceedances(units, stations, tmp_path):
    path = _write(
        tmp_path / "hours.csv",
        "station,parameter,date,value,hours\nA-KEY,PM2.5,2024-06-03,90,19\nA-KEY,PM2.5,2024-06-20,90,20\n",
    )
    readings_import(path=path)
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    lead = Lead.objects.get()
    assert lead.evidence["exceedances"] == [{"date": "2024-06-20", "value": 90.0}]
    assert any("too few valid hours" in n for n in report.notes)


def test_decline_leads_compare_with_the_same_period_a_year_before(units, stations, tmp_path):
    last_june = _days(date(2023, 6, 1), 30)
    rows = [("A-GEN", "PM2.5", d, 40) for d in last_june]
    rows += [("A-GEN", "PM2.5", d, 30) for d in _days(date(2024, 5, 2), 30)]  # the month before: not compared
    rows += [("A-GEN", "PM2.5", d, 50) for d in _days(date(2024, 6, 1), 30)]  # +25 % year on year
    rows += [("A-GEN", "PM10", d, 60) for d in last_june]
    rows += [("A-GEN", "PM10", d, 66) for d in _days(date(2024, 6, 1), 30)]  # +10 %: below the 20 % margin
    rows += [("A-GEN", "NO2", d, 20) for d in last_june[:20]]  # 20 valid days last year: incomplete
    rows += [("A-GEN", "NO2", d, 40) for d in _days(date(2024, 6, 1), 30)]
    rows += [("A-GEN", "SO2", d, 20) for d in _days(date(2024, 6, 1), 30)]  # no data last year
    rows += [("A-KEY", "PM2.5", d, v) for d, v in zip(_days(date(2024, 5, 2), 60), [10] * 30 + [30] * 30, strict=False)]
    readings_import(path=_readings(tmp_path, rows))
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30, decline_period_days=30)
    assert report.decline_leads == 1 and report.required_valid_days == 27
    assert report.previous_period == (date(2023, 6, 1), date(2023, 6, 30))
    outcomes = {(r["station"], r["parameter"]): r["outcome"] for r in report.comparisons}
    assert outcomes == {
        ("A-GEN", "PM2.5"): "decline",
        ("A-GEN", "PM10"): "no_decline",
        ("A-GEN", "NO2"): "incomplete",
        ("A-GEN", "SO2"): "no_last_year",
    }
    assert any("A-GEN SO2" in n and "no data for the same period last year" in n for n in report.notes)
    assert any("A-GEN NO2" in n and "27 required" in n for n in report.notes)
    lead = Lead.objects.get(source="ambient")
    assert lead.unit == units["general"] and lead.evidence["rule"] == "decline"
    assert lead.evidence["mean"] == 50 and lead.evidence["previous_mean"] == 40
    assert lead.evidence["worse_pct"] == 25.0 and lead.evidence["margin_pct"] == 20.0
    assert lead.evidence["previous_period"] == ["2023-06-01", "2023-06-30"]
    assert "同比" in lead.title
    # One margin for every parameter (the command) finds PM10 too; the PM2.5 lead is not raised twice.
    call_command(
        "evaluate_monitoring",
        "--plan",
        "mon-test",
        "--period-end",
        "2024-06-30",
        "--decline-period-days",
        "30",
        "--margin-pct",
        "8",
    )
    assert Lead.objects.filter(source="ambient").count() == 2


def test_monitoring_runs_only_on_the_plan_in_force_or_as_a_dry_run(units, stations, tmp_path, capsys):
    from supervision.errors import ServiceError

    readings_import(path=_readings(tmp_path, [("A-KEY", "PM2.5", "2024-06-05", 90)]))
    units["plan"].status = "draft"
    units["plan"].save()
    with pytest.raises(ServiceError) as exc:
        monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert exc.value.code == "plan_not_in_force" and "mon-test" in exc.value.message
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30, dry_run=True)
    assert report.dry_run and report.created == 1 and Lead.objects.count() == 0
    assert report.actions[0]["action"] == "raise" and report.actions[0]["rule"] == "exceedance"
    with pytest.raises(SystemExit) as refused:
        call_command("evaluate_monitoring", "--plan", "mon-test", "--period-end", "2024-06-30")
    assert refused.value.code == 1 and "runs only on the plan in force" in capsys.readouterr().err
    call_command("evaluate_monitoring", "--plan", "mon-test", "--period-end", "2024-06-30", "--dry-run")
    out = capsys.readouterr().out
    assert "would raise exceedance lead" in out and "dry run: nothing written" in out
    assert Lead.objects.count() == 0
    assert monitoring_evaluate_all(today=date(2024, 7, 1)) == 0  # the periodic job skips drafts


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
    g0 = grid_import(
        plan=units["plan"],
        path=_grid(tmp_path / "jun23.tif", lambda r, c: 30 + 0 * r),
        parameter="PM2.5",
        period_start=date(2023, 6, 1),
        period_end=date(2023, 6, 30),
    )
    grid_import(
        plan=units["plan"],
        path=_grid(tmp_path / "may.tif", lambda r, c: 20 + 0 * r),
        parameter="PM2.5",
        period_start=date(2024, 5, 1),
        period_end=date(2024, 5, 31),
    )
    g2 = grid_import(
        plan=units["plan"],
        path=_grid(tmp_path / "jun.tif", lambda r, c: 37.5 + 0 * r),
        parameter="pm2.5",
        period_start=date(2024, 6, 1),
        period_end=date(2024, 6, 30),
    )
    stat = UnitZonalStat.objects.get(grid=g2, unit=units["general"])
    assert stat.mean == pytest.approx(37.5) and stat.valid_pixels > 0
    assert UnitZonalStat.objects.filter(grid=g0, mean__isnull=False).count() == 3
    report = monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert report.decline_leads == 1  # general units only; +25 % on June 2023 (May 2024 is not compared)
    lead = Lead.objects.get()
    assert lead.unit == units["general"] and lead.evidence["basis"] == "网格（面均值）"
    assert lead.evidence["worse_pct"] == pytest.approx(25.0)
    assert lead.geom.geom_type == "MultiPolygon"
    monitoring_evaluate(plan=units["plan"], period_end=END, period_days=30)
    assert Lead.objects.count() == 1
    # July, still 25 % worse than July 2023, extends the open lead (one episode).
    report = monitoring_evaluate(plan=units["plan"], period_end=date(2024, 7, 31), period_days=31)
    assert report.created == 0
    for month, value in ((date(2023, 7, 1), 30), (date(2024, 7, 1), 37.5)):
        grid_import(
            plan=units["plan"],
            path=_grid(tmp_path / f"jul{month.year}.tif", lambda r, c, v=value: v + 0 * r),
            parameter="PM2.5",
            period_start=month,
            period_end=month.replace(day=31),
        )
    report = monitoring_evaluate(plan=units["plan"], period_end=date(2024, 7, 31), period_days=31)
    assert (report.created, report.extended) == (0, 1)
    lead.refresh_from_db()
    assert lead.detections == 2 and lead.evidence["period"] == ["2024-06-01", "2024-07-31"]


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
