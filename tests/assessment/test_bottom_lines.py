"""Bottom lines and caps as data: import (whole file or nothing), tracking per year and quarter, warnings, report."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.utils import translation
from openpyxl import load_workbook

from supervision.assessment import services
from supervision.assessment.bottom_lines import bottom_lines_track
from supervision.assessment.models import BottomLineStatus
from supervision.assessment.periods import period_parse
from supervision.assessment.report import report_json, report_xlsx, tracking_report
from supervision.cases.models import Notification, UserProfile
from supervision.errors import ImportRefused, ServiceError
from supervision.remote_sensing.models import MonitoringReading, MonitoringStation
from supervision.zoning.bottom_lines import bottom_lines_import, statistics_import
from supervision.zoning.models import BottomLineTarget, ResourceStatistic
from tests.factories import DivisionFactory, PlanFactory, UnitFactory


@pytest.fixture(autouse=True)
def _english():
    """Refusals are asserted in English (the zh-hans catalogue translates them by default)."""
    with translation.override("en"):
        yield


D = Decimal
HEADER = "范围编码,指标,目标年份,目标值,单位,点位或断面\n"
TODAY = date(2026, 1, 1)  # 2025 wholly measured


@pytest.fixture
def plan(db):
    p = PlanFactory()
    p.A = DivisionFactory(adcode="220104", name="朝阳区")
    p.B = DivisionFactory(adcode="220102", name="南关区")
    p.UA = UnitFactory(plan=p, division=p.A, code="ZH22010410001")
    UnitFactory(plan=p, division=p.B, code="ZH22010210001")
    return p


def _csv(tmp_path, text: str, name="targets.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _station(code: str, division, medium="air") -> MonitoringStation:
    return MonitoringStation.objects.create(
        code=code, name=code, medium=medium, location=Point(125.305, 43.805, srid=4490), division=division
    )


def _daily(station, start: date, days: int, value: float, parameter="PM2.5"):
    MonitoringReading.objects.bulk_create(
        MonitoringReading(
            station=station, parameter=parameter, observed_on=start + timedelta(days=i), averaging="24h", value=value
        )
        for i in range(days)
    )


def _user(django_user_model, name, role, division=None):
    u = django_user_model.objects.create_user(username=name, password="pw-123456")
    u.groups.add(Group.objects.get(name=role))
    UserProfile.objects.create(user=u, division=division, city_wide=division is None)
    return u


def test_import_converts_units_and_upserts(plan, tmp_path):
    path = _csv(
        tmp_path,
        HEADER + "220104,PM2.5年均浓度,2025,0.035,mg/m3,\n"
        "220104,good_air_day_ratio,2025,85,%,\n"
        "ZH22010410001,考核断面水质类别,2025,III类,类,SW-01\n"
        "220104,用水总量,2025,1.2,亿立方米,\n",
    )
    report = bottom_lines_import(path=path, plan_code=plan.code, illustrative=True)
    assert (report.created, report.updated) == (4, 0)
    pm = BottomLineTarget.objects.get(indicator="pm25_annual_mean")
    assert (pm.target_value, pm.unit_label, pm.illustrative, pm.division) == (D("35"), "µg/m³", True, plan.A)
    water = BottomLineTarget.objects.get(indicator="water_section_class")
    assert (water.target_value, water.unit, water.station_code) == (D("3"), plan.UA, "SW-01")
    assert BottomLineTarget.objects.get(indicator="water_use").target_value == D("12000")
    again = bottom_lines_import(path=path, plan_code=plan.code)
    assert (again.created, again.updated) == (0, 4)


def test_import_refuses_the_whole_file_naming_row_and_column(plan, tmp_path):
    path = _csv(
        tmp_path,
        HEADER + "220104,PM2.5年均浓度,2025,35,µg/m³,\n"  # fine, but not written
        "229999,PM2.5年均浓度,2025,35,µg/m³,\n"
        "220104,噪声,2025,55,dB,\n"
        "220104,good_air_day_ratio,2025,120,%,\n"
        "220104,PM2.5年均浓度,2025,35,ppm,\n"
        "ZH22010410001,用水总量,2025,1,万立方米,\n"
        "220104,考核断面水质类别,20x5,VI,类,\n",
    )
    with pytest.raises(ImportRefused) as exc:
        bottom_lines_import(path=path, plan_code=plan.code)
    problems = exc.value.problems
    assert any(p.startswith("row 3, column 范围编码") for p in problems)
    assert any(p.startswith("row 4, column 指标") for p in problems)
    assert any(p.startswith("row 5, column 目标值") and "above 100" in p for p in problems)
    assert any(p.startswith("row 6, column 单位") and "ppm" in p for p in problems)
    assert any(p.startswith("row 7, column 范围编码") and "per district" in p for p in problems)
    assert any(p.startswith("row 8, column 目标年份") for p in problems)
    assert any(p.startswith("row 8, column 目标值") for p in problems)
    assert BottomLineTarget.objects.count() == 0


def test_import_refuses_unknown_columns(plan, tmp_path):
    path = _csv(tmp_path, "范围编码,指标,目标年份,目标值,单位,备注\n220104,pm25_annual_mean,2025,35,µg/m³,x\n")
    with pytest.raises(ImportRefused) as exc:
        bottom_lines_import(path=path, plan_code=plan.code)
    assert any("unknown column 备注" in p for p in exc.value.problems)


def test_import_command_exits_non_zero_with_one_line_per_problem(plan, tmp_path):
    path = _csv(tmp_path, HEADER + "229999,PM2.5年均浓度,2025,35,µg/m³,\n")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import_bottom_lines", path, "--plan", plan.code, stderr=err)
    assert exc.value.code == 1
    assert "row 2, column 范围编码" in err.getvalue()


def test_statistics_import_and_caps(plan, tmp_path):
    bottom_lines_import(
        path=_csv(tmp_path, HEADER + "220104,water_use,2030,10000,万立方米,\n220104,energy_use,2030,300,万吨标准煤,\n"),
        plan_code=plan.code,
    )
    stats = _csv(
        tmp_path,
        "范围编码,指标,年份,统计值,单位\n220104,用水总量,2025,0.9,亿立方米\n220104,energy_use,2025,3200000,吨标准煤\n",
        name="stats.csv",
    )
    assert statistics_import(path=stats).created == 2
    assert ResourceStatistic.objects.get(indicator="energy_use").value == D("320")
    report = bottom_lines_track(plan=plan, year=2025, today=TODAY)
    by = {s.target.indicator: s for s in report.statuses}
    assert (by["water_use"].status, by["water_use"].measured_value) == ("met", D("9000"))
    assert (by["energy_use"].status, by["energy_use"].measured_value) == ("off_track", D("320"))
    assert len(report.statuses) == 2  # caps are annual: no quarter rows
    bad = _csv(tmp_path, "范围编码,指标,年份,统计值,单位\n220104,PM2.5年均浓度,2025,1,µg/m³\n", name="bad.csv")
    with pytest.raises(ImportRefused):
        statistics_import(path=bad)


def test_tracking_pm25_per_year_and_quarter_and_warns_once_per_change(plan, tmp_path, django_user_model):
    officer = _user(django_user_model, "officer_a", "enforcement_officer", plan.A)
    assessor = _user(django_user_model, "assessor", "assessor")
    other = _user(django_user_model, "officer_b", "enforcement_officer", plan.B)
    bottom_lines_import(
        path=_csv(tmp_path, HEADER + "220104,PM2.5年均浓度,2025,35,µg/m³,\n220104,PM2.5年均浓度,2030,30,µg/m³,\n"),
        plan_code=plan.code,
    )
    station = _station("AIR-1", plan.A)
    _daily(station, date(2025, 1, 1), 180, 30.0)  # Jan–Jun clean
    _daily(station, date(2025, 6, 30), 185, 50.0)  # Jul–Dec dirty
    report = bottom_lines_track(plan=plan, year=2025, today=TODAY)
    by = {s.period_code: s for s in report.statuses}
    assert set(by) == {"2025", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"}
    assert by["2025-Q1"].status == "met" and by["2025-Q1"].measured_value == D("30")
    assert by["2025-Q3"].status == "off_track" and by["2025-Q3"].measured_value == D("50")
    year = by["2025"]
    assert year.target.target_year == 2025  # the stage in force for 2025
    assert year.status == "off_track" and year.measured_value == D("40.1")
    assert year.details["valid_days"] == 365 and year.details["required_days"] == 324
    warned = Notification.objects.filter(kind="bottom_line")
    assert set(warned.values_list("recipient_id", flat=True)) == {officer.pk, assessor.pk}
    assert other.pk not in warned.values_list("recipient_id", flat=True)
    assert warned.count() == 2 * 3  # year, Q3, Q4 off track, each to two people
    # The same data again: nothing changes, nobody is warned twice.
    again = bottom_lines_track(plan=plan, year=2025, today=TODAY)
    assert again.changed == 0 and again.warned == 0 and warned.count() == 6
    # Cleaner data: met; dirtier again: off track, warned again for the new change.
    MonitoringReading.objects.update(value=20.0)
    assert bottom_lines_track(plan=plan, year=2025, today=TODAY).warned == 0
    MonitoringReading.objects.update(value=60.0)
    bottom_lines_track(plan=plan, year=2025, today=TODAY)
    year = BottomLineStatus.objects.get(period_code="2025")
    assert year.changes == 3 and warned.filter(key__startswith=f"bottom_line:{year.pk}:").count() == 4


def test_too_few_valid_days_is_insufficient_data_not_met(plan, tmp_path):
    bottom_lines_import(path=_csv(tmp_path, HEADER + "220104,PM2.5年均浓度,2025,35,µg/m³,\n"), plan_code=plan.code)
    _daily(_station("AIR-1", plan.A), date(2025, 1, 1), 300, 10.0)  # 300 < 324 days
    year = next(s for s in bottom_lines_track(plan=plan, year=2025, today=TODAY).statuses if s.period_code == "2025")
    assert year.status == "insufficient_data" and year.measured_value is None
    assert (year.details["valid_days"], year.details["required_days"]) == (300, 324)


def test_good_air_days_and_water_class(plan, tmp_path):
    bottom_lines_import(
        path=_csv(
            tmp_path,
            HEADER + "220104,空气质量优良天数比例,2025,90,%,\n220104,考核断面水质类别,2025,III,类,SW-01\n",
        ),
        plan_code=plan.code,
    )
    air = _station("AIR-1", plan.A)
    _daily(air, date(2025, 1, 1), 365, 40.0)
    # 73 days (20 %) with PM2.5 over the 75 µg/m³ daily limit: 80 % good days.
    MonitoringReading.objects.filter(observed_on__lt=date(2025, 3, 15)).update(value=90.0)
    water = _station("SW-01", plan.A, medium="water")
    for month in range(1, 13):
        MonitoringReading.objects.create(
            station=water, parameter="COD", observed_on=date(2025, month, 5), averaging="sample", value=18.0
        )
    report = bottom_lines_track(plan=plan, year=2025, today=TODAY)
    by = {(s.target.indicator, s.period_code): s for s in report.statuses}
    good = by[("good_air_day_ratio", "2025")]
    assert (good.status, good.measured_value, good.details["good_days"]) == ("off_track", D("80"), 292)
    assert by[("good_air_day_ratio", "2025-Q3")].status == "met"
    w = by[("water_section_class", "2025")]
    assert (w.status, w.measured_value, w.details["sections"]) == ("met", D("3"), {"SW-01": "III"})


def test_tracking_refuses_a_future_year_and_a_plan_without_targets(plan):
    with pytest.raises(ServiceError) as exc:
        bottom_lines_track(plan=plan, year=2027, today=TODAY)
    assert exc.value.code == "future_year"
    with pytest.raises(ServiceError) as exc:
        bottom_lines_track(plan=plan, year=2025, today=TODAY)
    assert exc.value.code == "no_targets"


def test_attainment_counts_in_the_scheme_and_the_report(plan, tmp_path):
    bottom_lines_import(
        path=_csv(tmp_path, HEADER + "220104,PM2.5年均浓度,2025,35,µg/m³,\n220102,PM2.5年均浓度,2025,35,µg/m³,\n"),
        plan_code=plan.code,
        illustrative=True,
    )
    _daily(_station("AIR-A", plan.A), date(2025, 1, 1), 365, 50.0)
    _daily(_station("AIR-B", plan.B), date(2025, 1, 1), 365, 20.0)
    bottom_lines_track(plan=plan, year=2025, today=TODAY)
    result = services.scores_compute(plan=plan, period=period_parse("2025-Q2"), check_role=False)
    lines = {c.division_id: c.lines.get(code="bottom_line_attainment") for c in result.computed}
    assert (lines[plan.A.pk].numerator, lines[plan.A.pk].denominator) == (0, 1)
    assert (lines[plan.B.pk].numerator, lines[plan.B.pk].value) == (1, D("1"))
    # A month is judged by its quarter.
    month = services.scores_compute(plan=plan, period=period_parse("2025-05"), check_role=False)
    assert all(c.lines.get(code="bottom_line_attainment").denominator == 1 for c in month.computed)
    rep = tracking_report(plan=plan, year=2025)
    data = report_json(rep)
    assert data["bottom_lines"]["counts"] == {"met": 1, "off_track": 1}
    assert data["bottom_lines"]["attainment_pct"] == "50.0"
    wb = load_workbook(io.BytesIO(report_xlsx(rep)))
    assert wb.sheetnames == ["底线目标", "遥感变化", "选址研判", "执法"]
    row = [c.value for c in wb["底线目标"][2]]
    assert isinstance(row[6], (int, float)) and row[-1] == "是"


def test_track_command(plan, tmp_path):
    bottom_lines_import(path=_csv(tmp_path, HEADER + "220104,PM2.5年均浓度,2025,35,µg/m³,\n"), plan_code=plan.code)
    _daily(_station("AIR-1", plan.A), date(2025, 1, 1), 365, 30.0)
    out = io.StringIO()
    call_command("track_bottom_lines", "--plan", plan.code, "--year", "2025", stdout=out)
    assert "220104 pm25_annual_mean 2025: met 30" in out.getvalue()
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("track_bottom_lines", "--plan", "nope", stderr=err)
    assert "No zoning plan 'nope'" in err.getvalue()


def test_beat_task_tracks_effective_plans_and_runs_twice_safely(plan, tmp_path, django_user_model):
    from supervision.assessment.tasks import bottom_lines_track_all

    _user(django_user_model, "assessor", "assessor")
    bottom_lines_import(path=_csv(tmp_path, HEADER + "220104,PM2.5年均浓度,2030,1,µg/m³,\n"), plan_code=plan.code)
    _daily(_station("AIR-1", plan.A), date.today() - timedelta(days=400), 400, 30.0)
    plan.status = "draft"
    plan.save()
    assert bottom_lines_track_all.delay().get() == []  # a draft plan is not tracked
    plan.status = "effective"
    plan.save()
    first = bottom_lines_track_all.delay().get()
    assert first and all(r["plan"] == plan.code for r in first)
    statuses, notes = BottomLineStatus.objects.count(), Notification.objects.count()
    assert statuses > 0 and notes > 0
    second = bottom_lines_track_all.delay().get()
    assert [r["statuses"] for r in second] == [r["statuses"] for r in first]
    assert (BottomLineStatus.objects.count(), Notification.objects.count()) == (statuses, notes)
    assert all(r["warned"] == 0 for r in second)


def test_a_station_without_a_division_counts_for_the_district_whose_unit_holds_it(plan, tmp_path):
    from supervision.remote_sensing.selectors_assessment import stations_by_division

    bottom_lines_import(path=_csv(tmp_path, HEADER + "220104,PM2.5年均浓度,2025,35,µg/m³,\n"), plan_code=plan.code)
    _daily(_station("AIR-X", None), date(2025, 1, 1), 365, 20.0)  # inside 朝阳区's unit, no division field
    year = next(s for s in bottom_lines_track(plan=plan, year=2025, today=TODAY).statuses if s.period_code == "2025")
    assert (year.status, year.details["stations"]) == ("met", ["AIR-X"])
    assert stations_by_division(medium="air") == [("AIR-X", "220104")]


def test_import_reads_xlsx(plan, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["范围编码", "指标", "目标年份", "目标值", "单位"])
    ws.append(["220104", "PM2.5年均浓度", 2025, 35, "µg/m³"])
    ws.append(["220104", "建设用地总规模", 2025, 12.5, "平方公里"])
    path = tmp_path / "targets.xlsx"
    wb.save(path)
    assert bottom_lines_import(path=str(path), plan_code=plan.code).created == 2
    assert BottomLineTarget.objects.get(indicator="construction_land").target_value == D("1250")
