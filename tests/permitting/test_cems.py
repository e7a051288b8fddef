"""CEMS evaluation from stored values: episodes, extension, re-runs, gaps, closed leads."""

from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from supervision.cases.models import Lead
from supervision.cases.services.users import user_upsert
from supervision.permitting.models import PermitLimit
from supervision.permitting.selectors import target_compliance
from supervision.permitting.services.cems import CemsStore, cems_evaluate, episodes_find
from supervision.remote_sensing.hj212 import packet_build, packet_parse, segment_build
from supervision.remote_sensing.models import CemsValue
from supervision.remote_sensing.services.cems import CemsRow, cems_values_store

TZ = timezone.get_default_timezone()


def at(day: int, hour: int) -> datetime:
    return timezone.make_aware(datetime(2026, 3, day, hour), TZ)


def test_episodes_split_on_compliant_hours_long_silences_and_skip_invalid_flags():
    values = [
        (at(1, 0), 60.0, "N"),
        (at(1, 1), 70.0, "N"),
        (at(1, 2), 40.0, "N"),  # compliant: ends the first episode
        (at(1, 3), 55.0, "N"),
        (at(1, 4), 99.0, "M"),  # maintenance: not a measurement
        (at(1, 5), 56.0, "N"),
        (at(1, 20), 57.0, "N"),  # 15 h silence: a new episode
    ]
    episodes = episodes_find(values, limit=50.0, max_gap=timedelta(hours=6))
    assert [[v for _, v in e.hours] for e in episodes] == [[60.0, 70.0], [55.0, 56.0], [57.0]]


@pytest.fixture
def limit(pscene):
    return PermitLimit.objects.create(
        target=pscene.chem,
        outlet_code="DA001",
        device_mn="CEMS0001",
        pollutant_code="a21026",
        hourly_limit=50,
        unit="mg/m3",
    )


def store(hours: list[tuple[datetime, float]]) -> None:
    rows = [
        CemsRow(
            device_mn="CEMS0001",
            outlet_code="DA001",
            pollutant_code="a21026",
            cn=2061,
            data_time=t,
            avg=v,
            min=None,
            max=None,
            flag="N",
        )
        for t, v in hours
    ]
    cems_values_store(rows=rows, received_at=timezone.now())


def test_store_keeps_one_value_per_device_pollutant_and_time(limit):
    store([(at(1, 0), 10.0), (at(1, 1), 11.0)])
    store([(at(1, 0), 99.0)])  # resent with another value: the first stands
    assert list(CemsValue.objects.order_by("data_time").values_list("avg", flat=True)) == [10.0, 11.0]


def test_episode_raises_one_lead_extended_by_later_hours_and_reruns_add_nothing(limit, pscene):
    store([(at(1, 0), 40.0), (at(1, 1), 60.0), (at(1, 2), 65.0)])
    report = cems_evaluate(since=at(1, 0), now=at(1, 3))
    assert (report.episodes, report.leads_created, report.detections_added) == (1, 1, 2)
    lead = Lead.objects.get()
    assert (lead.source, lead.detections, lead.division) == ("cems", 2, pscene.division)
    store([(at(1, 3), 80.0)])
    for _ in range(2):
        cems_evaluate(since=at(1, 0), now=at(1, 4))
    lead.refresh_from_db()
    assert Lead.objects.count() == 1
    assert lead.detections == 3
    assert lead.last_detected_at == at(1, 3)
    assert [h["value"] for h in lead.evidence["hours"]] == [60.0, 65.0, 80.0]
    assert lead.evidence["worst"] == 80.0
    # A compliant hour, then a new exceedance: a second episode, a second lead.
    store([(at(1, 4), 30.0), (at(1, 5), 51.0)])
    assert cems_evaluate(since=at(1, 0), now=at(1, 6)).leads_created == 1
    assert Lead.objects.count() == 2


def test_a_concluded_lead_is_not_extended(limit):
    store([(at(1, 1), 60.0)])
    cems_evaluate(since=at(1, 0), now=at(1, 2))
    lead = Lead.objects.get()
    Lead.objects.filter(pk=lead.pk).update(status="dismissed", dismiss_reason="仪表故障", verification_due_at=at(2, 0))
    store([(at(1, 2), 70.0)])
    cems_evaluate(since=at(1, 0), now=at(1, 3))
    lead.refresh_from_db()
    assert lead.detections == 1


@override_settings(CEMS_GAP_HOURS=6)
def test_a_silent_device_raises_one_gap_lead_per_silence(limit, pscene):
    store([(at(1, 0), 10.0)])
    assert cems_evaluate(since=at(1, 0), now=at(1, 5)).gaps == 0
    for _ in range(2):
        report = cems_evaluate(since=at(1, 0), now=at(1, 8))
    assert report.gaps == 1 and report.gap_leads_created == 0
    gap = Lead.objects.get(evidence__rule="cems_gap")
    assert (gap.target, gap.evidence["silent_hours"], gap.evidence["device_mn"]) == (pscene.chem, 8.0, "CEMS0001")
    store([(at(1, 9), 10.0)])
    assert cems_evaluate(since=at(1, 0), now=at(1, 12)).gaps == 0
    assert cems_evaluate(since=at(1, 0), now=at(1, 16)).gap_leads_created == 1  # a new silence


def test_store_rejects_unknown_devices_and_data_without_time(limit):
    def packet(mn, cp, cn="2061"):
        return packet_parse(packet_build(segment_build(qn="1", st="31", cn=cn, pw="1", mn=mn, flag=5, cp=cp)))

    verdicts = CemsStore(evaluate=False)(
        [
            packet("CEMS0001", "DataTime=20260301010000;a21026-Avg=12,a21026-Flag=N"),
            packet("OTHER", "DataTime=20260301010000;a21026-Avg=12"),
            packet("CEMS0001", "a21026-Avg=12"),
            packet("CEMS0001", "", cn="9015"),
            # A pollutant code longer than the column (16): that packet alone is refused.
            packet("CEMS0001", "DataTime=20260301020000;a21026-Avg=13;a210260000000000X-Avg=1"),
        ]
    )
    assert verdicts == [None, "unknown_device", "malformed", None, "malformed"]
    assert list(CemsValue.objects.values_list("device_mn", "outlet_code", "avg")) == [("CEMS0001", "DA001", 12.0)]


def test_demo_loads_permits_and_one_cems_lead_twice_alike(pscene):
    from supervision.permitting.demo import demo_load

    pscene.chem.name = "长春市南关区示范化工有限公司"
    pscene.chem.save()
    pscene.brewery.name = "长春市宽城区示范热电有限公司"
    pscene.brewery.save()
    pscene.plan.code = "changchun-2024"
    pscene.plan.save()
    for _ in range(2):
        lines = demo_load()
    assert "permitting: EIA approval 长环审〔2025〕17号 年产3万吨精细化工中间体项目: prohibited" in lines
    assert "5 updated permit limits" in lines[0]
    assert CemsValue.objects.filter(cn=2061).count() == 24 * 5
    lead = Lead.objects.get(source="cems")
    assert (lead.target, lead.detections) == (pscene.brewery, 3)


def test_daily_averages_above_the_daily_limit_form_episodes_with_one_lead_each(limit, pscene):
    """Hours within the hourly limit (50), days above the daily limit (30): a daily-average lead."""
    PermitLimit.objects.filter(pk=limit.pk).update(daily_limit=30)
    day = lambda d, value, hours=24: [(at(d, h), value) for h in range(hours)]  # noqa: E731
    # Day 1 averages 35 (half the hours 30, half 40), day 2 40: one episode; day 3 compliant;
    # day 4 has only 10 valid hours (no valid daily average); day 5 is still running at `now`.
    store(day(1, 30.0, 12) + [(at(1, h), 40.0) for h in range(12, 24)] + day(2, 40.0) + day(3, 20.0))
    store(day(4, 45.0, 10) + day(5, 45.0, 15))
    for _ in range(2):  # safe to re-run
        report = cems_evaluate(since=at(1, 5), now=at(5, 15))
    assert (report.episodes, report.daily_episodes) == (0, 1)
    lead = Lead.objects.get(evidence__rule="cems_daily_exceedance")
    assert (lead.source, lead.target, lead.division, lead.detections) == ("cems", pscene.chem, pscene.division, 2)
    assert lead.evidence["days"] == [{"date": "2026-03-01", "value": 35.0}, {"date": "2026-03-02", "value": 40.0}]
    assert (lead.evidence["limit"], lead.evidence["worst"]) == (30, 40.0)
    assert Lead.objects.count() == 1
    # Day 5 finished above the limit: after the invalid day 4 it is a new episode, a new lead.
    store([(at(5, h), 45.0) for h in range(15, 24)])
    report = cems_evaluate(since=at(1, 0), now=at(6, 1))
    assert (report.daily_episodes, report.daily_leads_created) == (2, 1)
    new = Lead.objects.filter(evidence__rule="cems_daily_exceedance").exclude(pk=lead.pk).get()
    assert new.evidence["days"] == [{"date": "2026-03-05", "value": 45.0}] and "日均值超标" in new.title
    # The target's compliance history lists both among its CEMS exceedances.
    admin, _ = user_upsert(username="daily-admin", role="bureau_admin", password="pw-123456", email="d@x.test")
    history = target_compliance(user=admin, target_id=pscene.chem.pk)
    assert {row["id"] for row in history["cems_exceedances"]} == {lead.pk, new.pk}
