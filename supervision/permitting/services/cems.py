"""CEMS values against permitted limits: the receiver's store, exceedance episodes and data gaps.

Permitting owns the limits, so it joins them with the values that `remote_sensing`
stores (`CemsValue`, written only through `remote_sensing.services.cems`). Leads go
through `cases.services.leads` only.

* Exceedance: hourly averages (CN=2061) above the permitted hourly limit, in a run with
  no compliant hour between them and no silence longer than CEMS_GAP_HOURS, form one
  episode. Its first hour raises one lead (source `cems`), keyed by device, pollutant and
  episode start; each later hour is one more detection of that lead while it is open.
* Daily exceedance: where the permit sets a daily limit (日均值限值), the daily average of a
  local calendar day's valid hourly averages (a finished day with at least DAILY_MIN_HOURS
  of them, as HJ 75 asks of a valid daily value) above it is an exceedance day. Consecutive
  exceedance days form one episode by the same rule as hours (a compliant day or a day
  without a valid average ends it): its first day raises one lead (rule
  `cems_daily_exceedance`, keyed by device, pollutant and first day), each later day is
  one more detection while the lead is open.
* Data gap: a permitted device silent CEMS_GAP_HOURS or more raises a gap lead, keyed by
  device and the time of its last value (one lead per silence).
Both are natural-key upserts: `evaluate_cems` can run any number of times.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min, Q
from django.utils import timezone

from supervision.cases.choices import LeadSource
from supervision.cases.services.leads import lead_detection_extend, lead_raise
from supervision.remote_sensing.hj212 import Packet
from supervision.remote_sensing.models import CemsValue
from supervision.remote_sensing.services.cems import CemsRow, cems_values_store
from supervision.zoning.choices import PlanStatus
from supervision.zoning.models import ZoningPlan

from ..choices import POLLUTANT_NAMES
from ..models import PermitLimit

log = logging.getLogger("supervision.hj212")

CN_HOURLY = 2061
CN_MINUTE = 2051
STORED_CNS = {str(CN_HOURLY): CN_HOURLY, str(CN_MINUTE): CN_MINUTE}
# HJ 212 data flags that mean a valid measurement (N normal, T above the analyser's range).
VALID_FLAGS = {"", "N", "T"}
# HJ 75-2017: a daily average is valid with at least 20 valid hourly averages that day.
DAILY_MIN_HOURS = 20
# remote_sensing_cemsvalue.pollutant_code is varchar(16): a longer code refuses its packet alone.
POLLUTANT_CODE_MAX = 16


@dataclass
class CemsEvaluationReport:
    episodes: int = 0
    leads_created: int = 0
    detections_added: int = 0
    gaps: int = 0
    gap_leads_created: int = 0
    daily_episodes: int = 0
    daily_leads_created: int = 0
    daily_detections_added: int = 0


@dataclass
class Episode:
    hours: list[tuple[datetime, float]] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.hours[0][0]


def episodes_find(
    values: list[tuple[datetime, float | None, str]], *, limit: float, max_gap: timedelta
) -> list[Episode]:
    """Runs of hourly averages above `limit`, ordered by time; a compliant hour or a long silence ends one."""
    episodes: list[Episode] = []
    current: Episode | None = None
    last_at: datetime | None = None
    for at, avg, flag in values:
        if avg is None or flag not in VALID_FLAGS:
            continue  # stopped, maintenance, calibration, fault: not a measurement of the discharge
        if current is not None and last_at is not None and at - last_at > max_gap:
            current = None
        if avg > limit:
            if current is None:
                current = Episode()
                episodes.append(current)
            current.hours.append((at, avg))
        else:
            current = None
        last_at = at
    return episodes


def daily_averages(
    values: list[tuple[datetime, float | None, str]], *, before: date
) -> list[tuple[datetime, float | None, str]]:
    """Each finished local day (before `before`) as (local midnight, average of its valid hours, "").

    A day with fewer than DAILY_MIN_HOURS valid hours has no valid average (None): like an
    invalid hour, it neither extends nor ends an episode by itself, but the day gap does.
    """
    days: dict[date, list[float]] = defaultdict(list)
    for at, avg, flag in values:
        day = timezone.localtime(at).date()
        if day >= before:
            continue
        if avg is not None and flag in VALID_FLAGS:
            days[day].append(avg)
        else:
            days.setdefault(day, [])
    tz = timezone.get_current_timezone()
    return [
        (
            timezone.make_aware(datetime.combine(day, dtime()), tz),
            (sum(hours) / len(hours)) if len(hours) >= DAILY_MIN_HOURS else None,
            "",
        )
        for day, hours in sorted(days.items())
    ]


def _plan_of(target) -> ZoningPlan | None:
    if target.unit_id:
        return target.unit.plan
    return ZoningPlan.objects.filter(status=PlanStatus.EFFECTIVE).first()


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _local_day(at: datetime) -> str:
    return timezone.localtime(at).date().isoformat()


def _hourly_texts(limit: PermitLimit, name: str, first_at: datetime, first_value: float) -> tuple[str, str]:
    return (
        f"{limit.target.name} {limit.outlet_code} {name}小时均值超标（{_local(first_at)}起）",
        f"在线监测设备 {limit.device_mn}（排放口 {limit.outlet_code}）{name}（{limit.pollutant_code}）"
        f"小时均值 {first_value:g} {limit.unit}，超过许可限值 {limit.hourly_limit:g} {limit.unit}。",
    )


def _daily_texts(limit: PermitLimit, name: str, first_at: datetime, first_value: float) -> tuple[str, str]:
    first_day = _local_day(first_at)
    return (
        f"{limit.target.name} {limit.outlet_code} {name}日均值超标（{first_day}起）",
        f"在线监测设备 {limit.device_mn}（排放口 {limit.outlet_code}）{name}（{limit.pollutant_code}）"
        f"{first_day} 日均值 {first_value:.4g} {limit.unit}，超过许可日均值限值 {limit.daily_limit:g} {limit.unit}。",
    )


@dataclass(frozen=True)
class _Series:
    """How one kind of exceedance (hourly or daily averages) keys, names and records its observations."""

    rule: str  # evidence "rule"
    key: str  # lead key: cems:<key>:<device>:<pollutant>:<first observation's stamp>
    observations: str  # evidence list of the episode's observations: "hours" / "days"
    label: str  # an observation's stamp in evidence: "time" / "date"
    episode_name: str  # in the log line when the target has no plan
    stamp: Callable[[datetime], str]
    value: Callable[[float], float]
    limit_of: Callable[[PermitLimit], float | None]  # daily series only run for limits that have one
    texts: Callable[[PermitLimit, str, datetime, float], tuple[str, str]]  # the lead's title and reason


_HOURLY_SERIES = _Series(
    rule="cems_exceedance",
    key="exceed",
    observations="hours",
    label="time",
    episode_name="CEMS episode",
    stamp=datetime.isoformat,
    value=lambda value: value,
    limit_of=lambda limit: limit.hourly_limit,
    texts=_hourly_texts,
)
# A day is stamped by its local date; daily averages are rounded to 4 decimal places in evidence.
_DAILY_SERIES = _Series(
    rule="cems_daily_exceedance",
    key="daily",
    observations="days",
    label="date",
    episode_name="daily CEMS episode",
    stamp=_local_day,
    value=lambda value: round(value, 4),
    limit_of=lambda limit: limit.daily_limit,
    texts=_daily_texts,
)


def _exceedance_lead(limit: PermitLimit, episode: Episode, series: _Series, report: CemsEvaluationReport) -> None:
    """Raise the episode's lead from its first observation, then one detection for each later one."""
    target = limit.target
    plan = _plan_of(target)
    if plan is None:
        log.warning(
            "no plan for target %s: %s of %s not raised", target.credit_code, series.episode_name, limit.device_mn
        )
        return
    name = POLLUTANT_NAMES.get(limit.pollutant_code, limit.pollutant_code)
    limit_value = series.limit_of(limit)
    lead_key = f"cems:{series.key}:{limit.device_mn}:{limit.pollutant_code}:{series.stamp(episode.start)}"

    def evidence(observed: list[tuple[datetime, float]]) -> dict:
        return {
            "rule": series.rule,
            "device_mn": limit.device_mn,
            "outlet_code": limit.outlet_code,
            "pollutant_code": limit.pollutant_code,
            "pollutant_name": name,
            "limit": limit_value,
            "unit": limit.unit,
            series.observations: [
                {series.label: series.stamp(at), "value": series.value(value)} for at, value in observed
            ],
            "worst": series.value(max(value for _, value in observed)),
            "credit_code": target.credit_code,
        }

    first_at, first_value = episode.hours[0]
    title, reason = series.texts(limit, name, first_at, first_value)
    result = lead_raise(
        source=LeadSource.CEMS,
        source_key=lead_key,
        plan=plan,
        unit=target.unit,
        division=target.division,
        target=target,
        geom=target.location,
        title=title[:200],
        reason=reason,
        evidence=evidence(episode.hours[:1]),
        detected_at=first_at,
    )
    created, detections_added = int(result.created), int(result.detection_added)
    for i in range(1, len(episode.hours)):
        at, value = episode.hours[i]
        extended = lead_detection_extend(
            lead_key=lead_key,
            source_key=f"{lead_key}:{series.stamp(at)}",
            detected_at=at,
            evidence={
                series.label: series.stamp(at),
                "value": series.value(value),
                "limit": limit_value,
                "unit": limit.unit,
            },
            lead_evidence=evidence(episode.hours[: i + 1]),
        )
        if extended is not None:
            detections_added += extended.detection_added
    if series is _DAILY_SERIES:
        report.daily_episodes += 1
        report.daily_leads_created += created
        report.daily_detections_added += detections_added
    else:
        report.episodes += 1
        report.leads_created += created
        report.detections_added += detections_added


def cems_evaluate(
    *,
    pairs: set[tuple[str, str]] | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
    gaps: bool = True,
) -> CemsEvaluationReport:
    """Raise or extend exceedance leads (all limits, or the given device/pollutant pairs) and gap leads.

    Hourly values from `since` (default: CEMS_EVALUATE_DAYS before `now`) are read; where the
    permit sets a daily limit, from the start of that local day, and finished days are averaged.
    """
    now = now or timezone.now()
    report = CemsEvaluationReport()
    max_gap = timedelta(hours=settings.CEMS_GAP_HOURS)
    since = since or now - timedelta(days=settings.CEMS_EVALUATE_DAYS)
    limits = PermitLimit.objects.select_related("target__unit__plan", "target__division")
    if pairs is not None:
        if not pairs:
            return report
        wanted = Q()
        for mn, code in pairs:
            wanted |= Q(device_mn=mn, pollutant_code=code)
        limits = limits.filter(wanted)
    today = timezone.localtime(now).date()
    since_day = timezone.make_aware(
        datetime.combine(timezone.localtime(since).date(), dtime()), timezone.get_current_timezone()
    )
    for limit in limits:
        values = list(
            CemsValue.objects.filter(
                device_mn=limit.device_mn,
                pollutant_code=limit.pollutant_code,
                cn=CN_HOURLY,
                data_time__gte=since_day if limit.daily_limit is not None else since,
            )
            .order_by("data_time")
            .values_list("data_time", "avg", "flag")
        )
        if limit.valid_from or limit.valid_to:
            values = [v for v in values if _in_force(limit, v[0])]
        hourly = [v for v in values if v[0] >= since]
        for episode in episodes_find(hourly, limit=limit.hourly_limit, max_gap=max_gap):
            _exceedance_lead(limit, episode, _HOURLY_SERIES, report)
        if limit.daily_limit is not None:
            days = daily_averages(values, before=today)
            for episode in episodes_find(days, limit=limit.daily_limit, max_gap=timedelta(days=1)):
                _exceedance_lead(limit, episode, _DAILY_SERIES, report)
    if gaps and pairs is None:
        cems_gaps_evaluate(now=now, report=report)
    return report


def _in_force(limit: PermitLimit, at: datetime) -> bool:
    day = timezone.localtime(at).date()
    return (limit.valid_from is None or day >= limit.valid_from) and (limit.valid_to is None or day <= limit.valid_to)


def cems_gaps_evaluate(*, now: datetime, report: CemsEvaluationReport) -> None:
    """A gap lead for each permitted device silent CEMS_GAP_HOURS or more (counted from its last value)."""
    gap = timedelta(hours=settings.CEMS_GAP_HOURS)
    devices = {
        row["device_mn"]: row
        for row in PermitLimit.objects.values("device_mn").annotate(
            target_id=Min("target_id"),
            first_listed=Min("created_at"),  # type: ignore[no-redef]
        )
    }
    last_seen = dict(
        CemsValue.objects.filter(device_mn__in=list(devices))
        .values("device_mn")
        .annotate(last=Max("data_time"))
        .values_list("device_mn", "last")
    )
    limits = {
        limit.device_mn: limit
        for limit in PermitLimit.objects.filter(device_mn__in=list(devices)).select_related(
            "target__unit__plan", "target__division"
        )
    }
    for mn, row in devices.items():
        last = last_seen.get(mn)
        since = last or row["first_listed"]
        if now - since < gap:
            continue
        report.gaps += 1
        limit = limits[mn]
        target = limit.target
        plan = _plan_of(target)
        if plan is None:
            continue
        silent_hours = round((now - since).total_seconds() / 3600, 1)
        since_text = _local(last) if last else "登记以来"
        result = lead_raise(
            source=LeadSource.CEMS,
            source_key=f"cems:gap:{mn}:{since.isoformat() if last else 'never'}",
            plan=plan,
            unit=target.unit,
            division=target.division,
            target=target,
            geom=target.location,
            title=f"{target.name} 在线监测数据中断（设备 {mn}，{since_text}起）"[:200],
            reason=(
                f"在线监测设备 {mn}（排放口 {limit.outlet_code}）自 {since_text} 起已 {silent_hours:g} 小时未上传数据，"
                f"超过 {settings.CEMS_GAP_HOURS} 小时。"
            ),
            evidence={
                "rule": "cems_gap",
                "device_mn": mn,
                "outlet_code": limit.outlet_code,
                "last_data_time": last.isoformat() if last else None,
                "silent_hours": silent_hours,
                "gap_hours": settings.CEMS_GAP_HOURS,
                "credit_code": target.credit_code,
            },
            detected_at=now,
        )
        report.gap_leads_created += result.created


class CemsStore:
    """The receiver's `store`: known devices only, values of CN 2061/2051 stored, new hours evaluated.

    Runs in the receiver's writer threads, each keeping its own database connection from
    batch to batch (no reconnect or health-check query per batch); after a failure the
    thread drops it and the next batch connects afresh. The device list (MN → outlet and
    hourly limit per pollutant) is held in memory, re-read every
    CEMS_DEVICE_REFRESH_SECONDS, and at once (at most every 5 s) when an unknown MN turns
    up, so a device whose limits were just imported is accepted soon.
    """

    def __init__(self, *, evaluate: bool = True) -> None:
        self.evaluate = evaluate
        # MN → pollutant code → (outlet code, hourly limit)
        self._devices: dict[str, dict[str, tuple[str, float]]] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self, *, force: bool) -> None:
        age = time.monotonic() - self._loaded_at
        if age < settings.CEMS_DEVICE_REFRESH_SECONDS and not (force and age > 5):
            return
        devices: dict[str, dict[str, tuple[str, float]]] = defaultdict(dict)
        limits = PermitLimit.objects.values_list("device_mn", "pollutant_code", "outlet_code", "hourly_limit")
        for mn, code, outlet, hourly_limit in limits:
            devices[mn][code] = (outlet, hourly_limit)
        self._devices = dict(devices)
        self._loaded_at = time.monotonic()

    def __call__(self, packets: list[Packet]) -> list[str | None]:
        try:
            return self._store(packets)
        except Exception:
            if not connection.in_atomic_block:
                connection.close()
            raise

    def _store(self, packets: list[Packet]) -> list[str | None]:
        with self._lock:
            self._refresh(force=False)
            devices = self._devices
            if any(p.mn not in devices for p in packets):
                self._refresh(force=True)
                devices = self._devices
        verdicts: list[str | None] = []
        rows: list[CemsRow] = []
        watch = False  # a new hour above its limit may start or extend an episode
        for packet in packets:
            outlets = devices.get(packet.mn)
            if outlets is None:
                verdicts.append("unknown_device")
                continue
            cn = STORED_CNS.get(packet.cn)
            if cn is None:
                verdicts.append(None)  # heartbeats, real-time and daily data: acknowledged, not kept
                continue
            data_time = packet.data_time
            if data_time is None:
                verdicts.append("malformed")
                continue
            default_outlet = next(iter(outlets.values()))[0]
            packet_rows = []
            for value in packet.values:
                code = value.code
                if len(code) > POLLUTANT_CODE_MAX:
                    verdicts.append("malformed")
                    break
                limit = outlets.get(code)
                avg = value.avg if value.avg is not None else value.rtd
                flag = value.flag[:4]
                packet_rows.append(
                    CemsRow(
                        packet.mn,
                        limit[0] if limit is not None else default_outlet,
                        code,
                        cn,
                        data_time,
                        avg,
                        value.min,
                        value.max,
                        flag,
                    )
                )
                if cn == CN_HOURLY and limit is not None and avg is not None and avg > limit[1] and flag in VALID_FLAGS:
                    watch = True
            else:
                rows += packet_rows
                verdicts.append(None)
        evaluate = self.evaluate and watch
        new = cems_values_store(rows=rows, received_at=timezone.now(), report_new=evaluate)
        if evaluate:
            # Only a new hour above its limit can start or extend an episode (a compliant
            # hour just ends one, which needs no write): the rest cost no query.
            hours = [r for r in new if r.cn == CN_HOURLY and self._exceeds(r)]
            if hours:
                # Late data (a device catching up) is evaluated around its own times, not now.
                since = min(r.data_time for r in hours) - timedelta(days=settings.CEMS_EVALUATE_DAYS)
                pairs = {(r.device_mn, r.pollutant_code) for r in hours}
                try:
                    cems_evaluate(pairs=pairs, since=since, gaps=False)
                except Exception:
                    # The values are stored; evaluate_cems will raise what was missed.
                    log.exception("CEMS evaluation after a stored batch failed")
        return verdicts

    def _exceeds(self, row: CemsRow) -> bool:
        limit = self._devices.get(row.device_mn, {}).get(row.pollutant_code)
        return limit is not None and row.avg is not None and row.avg > limit[1] and row.flag in VALID_FLAGS
