"""A year of daily evaluations, the way beat runs them, on realistic two-year series.

`evaluate_monitoring --period-end D` runs for each day D of 2025 over three PM2.5 stations
with two years of daily data (seasonal cycle + persistent log-normal noise, seeded):
* K: a key-unit station with two exceedance episodes, 5 days in January and 3 days a
  month later → exactly 2 exceedance leads;
* S: a general-unit station whose heating-season rise is the same as the year before
  → no decline lead (the old month-on-month rule raised one nearly every winter day);
* A: a general-unit station with one real autumn worsening (+60 % from 20 September to
  20 November 2025) → exactly 1 decline lead.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from supervision.cases.models import Lead, LeadDetection
from supervision.remote_sensing.models import MonitoringReading, MonitoringStation
from supervision.remote_sensing.series import Seasonal, daily_series, replaced, scaled
from supervision.remote_sensing.services.monitoring import monitoring_evaluate
from tests.factories import PlanFactory, UnitFactory, square

pytestmark = pytest.mark.django_db


FIRST, DAYS = date(2024, 1, 1), 731  # 2024 (leap year) and 2025
EPISODE_1 = [date(2025, 1, 14) + timedelta(days=i) for i in range(5)]
EPISODE_2 = [date(2025, 2, 16) + timedelta(days=i) for i in range(3)]
AUTUMN = (date(2025, 9, 20), date(2025, 11, 20))
SEASONAL = Seasonal(mean=38, amplitude=0.5, noise_sd=0.25, persistence=0.5)


def _month_mean(series, year: int, month: int) -> float:
    values = [v for d, v in series if (d.year, d.month) == (year, month)]
    return sum(values) / len(values)


@pytest.fixture
def year():
    plan = PlanFactory(code="mon-year")
    key = UnitFactory(plan=plan, code="ZH22010220001", unit_class="key", geom=square(125.30, 43.80))
    general_s = UnitFactory(plan=plan, code="ZH22010230001", unit_class="general", geom=square(125.32, 43.80))
    general_a = UnitFactory(plan=plan, code="ZH22010230002", unit_class="general", geom=square(125.34, 43.80))
    stations = {}
    for code, unit in (("K", key), ("S", general_s), ("A", general_a)):
        stations[code] = MonitoringStation.objects.create(
            code=code, name=f"站点{code}", medium="air", location=unit.geom.point_on_surface, target_grade="II"
        )
    base_k = daily_series(
        start=FIRST, days=DAYS, shape=Seasonal(mean=30, amplitude=0.35, noise_sd=0.2, persistence=0.5), seed=1
    )
    assert max(v for _d, v in base_k) < 75  # the key station's own series never exceeds the 75 µg/m³ limit
    series_k = replaced(
        base_k,
        {d: v for d, v in zip(EPISODE_1 + EPISODE_2, [96, 118, 142, 131, 88, 84, 103, 79], strict=True)},
    )
    series_s = daily_series(start=FIRST, days=DAYS, shape=SEASONAL, seed=2)
    series_a = scaled(daily_series(start=FIRST, days=DAYS, shape=SEASONAL, seed=3), *AUTUMN, 1.6)
    # The winter rise is real: December's mean is more than 20 % above October's, both years
    # (what a month-on-month comparison mistook for a decline).
    for y in (2024, 2025):
        assert _month_mean(series_s, y, 12) > 1.2 * _month_mean(series_s, y, 10)
    MonitoringReading.objects.bulk_create(
        MonitoringReading(
            station=stations[code], parameter="PM2.5", observed_on=d, averaging="24h", value=v, unit="µg/m³", hours=24
        )
        for code, series in (("K", series_k), ("S", series_s), ("A", series_a))
        for d, v in series
    )
    return plan


def test_a_year_of_daily_runs_raises_one_lead_per_episode(year):
    out = io.StringIO()
    day = date(2025, 1, 1)
    while day.year == 2025:
        call_command("evaluate_monitoring", "--plan", year.code, "--period-end", day.isoformat(), stdout=out)
        day += timedelta(days=1)
    exceedance = list(Lead.objects.filter(source="ambient", evidence__rule="exceedance").order_by("detected_at"))
    assert [ld.evidence["station"] for ld in exceedance] == ["K", "K"]
    assert [ld.evidence["days"] for ld in exceedance] == [5, 3]
    assert [ld.detections for ld in exceedance] == [5, 3]
    assert [ld.evidence["period"] for ld in exceedance] == [
        ["2025-01-14", "2025-01-18"],
        ["2025-02-16", "2025-02-18"],
    ]
    assert exceedance[0].evidence["worst"] == 142
    decline = list(Lead.objects.filter(source="ambient", evidence__rule="decline"))
    assert [ld.evidence["station"] for ld in decline] == ["A"]  # none for S
    autumn = decline[0]
    first, last = (date.fromisoformat(d) for d in (autumn.evidence["first_day"], autumn.evidence["last_day"]))
    # Its findings cover the worsening: windows ending from autumn into winter, one lead.
    assert first < AUTUMN[0] and AUTUMN[1] <= last
    assert autumn.detections == len(autumn.evidence["findings"]) > 30
    assert autumn.evidence["previous_period"][0].startswith("2024-")
    assert Lead.objects.count() == 3
    # The first days of 2025 could not be compared: the 2023 season is missing; the report says so.
    assert "no decline judged, too few valid values" in out.getvalue()
    # Running a day twice changes nothing.
    detections = LeadDetection.objects.count()
    again = monitoring_evaluate(plan=year, period_end=date(2025, 11, 1))
    assert (again.created, again.extended) == (0, 0)
    assert (Lead.objects.count(), LeadDetection.objects.count()) == (3, detections)


def test_first_days_of_the_year_say_why_no_decline_was_judged(year):
    report = monitoring_evaluate(plan=year, period_end=date(2025, 1, 10))
    rows = {r["station"]: r for r in report.comparisons}
    assert rows["S"]["outcome"] == "incomplete" and rows["A"]["outcome"] == "incomplete"
    assert rows["S"]["required_valid_days"] == 81 and rows["S"]["previous_valid_days"] < 81
    assert report.decline_leads == 0
