"""Raising many leads at once: the set-based form of `leads.lead_raise` for scans.

Same rules as `lead_raise`, a batch at a time and in a few statements instead of a few
per lead: an observation (`source_key`) already recorded changes nothing; with
`match_open_overlapping`, an open lead of the same source, unit and change class whose
geometry intersects gets one more detection; anything else becomes a new lead with its
detection and its creation event. Evidence files are not taken here: a scan renders its
chips after the leads are committed (the lead's `evidence_status` says when they come).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.errors import ServiceError
from supervision.zoning.models import ControlUnit, ZoningPlan

from ..choices import LEAD_OPEN_STATUSES, EvidenceStatus, LeadSource, LeadStatus
from ..models import EnforcementTarget, Evidence, Lead, LeadDetection, LeadEvent
from .leads import EvidenceFile, lead_raise


@dataclass
class LeadRaiseSpec:
    """One observation to raise, with the same fields as `lead_raise` takes."""

    source: str
    source_key: str
    plan: ZoningPlan
    geom: GEOSGeometry | str  # a GEOS geometry, or hex EWKB in STORAGE_SRID (a scan's shapely output)
    title: str
    reason: str
    unit: ControlUnit | None = None
    target_id: int | None = None
    change_class: int | None = None
    area_m2: float | None = None
    layer_ref: str = ""
    evidence: dict = field(default_factory=dict)
    detected_at: datetime | None = None
    description: str = ""
    evidence_status: str = ""


@dataclass(frozen=True)
class LeadBulkResult:
    lead_id: int
    created: bool
    detection_added: bool


# One lock for every bulk raise: two scans of the same file for two plans would
# otherwise race on the same source keys between the check and the insert.
_LOCK_KEY = 0x5C4E_1EAD


def leads_raise_bulk(
    *,
    specs: Sequence[LeadRaiseSpec],
    match_open_overlapping: bool = False,
    within: tuple[float, float, float, float] | None = None,
    exclusive: bool = True,
) -> list[LeadBulkResult]:
    """Raise a batch of leads set-wise; one result per spec, in order. Atomic per call.

    Specs of one batch should not overlap each other (a scan's patches never do: two
    patches of one class are never 8-connected). A source key repeated in the batch
    counts once, like calling `lead_raise` twice. `within` (a STORAGE_SRID box holding
    every spec's geometry) lets the open-lead match be skipped when no open lead of these
    sources meets the box, leaving out leads of the specs' own layers (`layer_ref`: one
    file's patches of a class never touch, so they cannot be repeats of each other): one
    index probe instead of one per spec.

    `exclusive` takes the bulk-raise lock, so concurrent raises cannot both miss each
    other's keys or leads. Only a caller that already excludes every other raise of
    the same keys and places may pass False: a scan's windows (one running layer per
    plan and per file; a window's patches are its own).
    """
    if not specs:
        return []
    for s in specs:
        if s.source not in LeadSource.values:
            raise ServiceError(_("Unknown lead source '%(source)s'.") % {"source": s.source}, code="lead_source")
        if s.unit is None or s.unit.division_id is None:
            raise ServiceError(_("A lead needs a responsible division (or a unit that has one)."), code="lead_division")
    if connection.vendor != "postgresql":  # SpatiaLite (local use): one lead at a time, same rules
        return _raise_one_by_one(specs, match_open_overlapping)
    now = timezone.now()
    with transaction.atomic():
        if exclusive:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        known = detections_recorded(source_keys=[s.source_key for s in specs])
        todo: list[int] = []
        seen: set[str] = set()
        for i, s in enumerate(specs):
            if s.source_key not in known and s.source_key not in seen:
                todo.append(i)
                seen.add(s.source_key)
        match = match_open_overlapping and todo and (within is None or _open_leads_within(specs, within))
        matched = _open_matches([specs[i] for i in todo]) if match else {}
        results: dict[int, LeadBulkResult] = {}
        detections: list[dict[str, Any]] = []
        bumps: dict[int, list] = {}
        new: list[int] = []
        for j, i in enumerate(todo):
            s = specs[i]
            at = s.detected_at or now
            lead_id = matched.get(j)
            if lead_id is None:
                new.append(i)
                continue
            detections.append(
                {
                    "lead_id": lead_id,
                    "source_key": s.source_key,
                    "layer_ref": s.layer_ref,
                    "detected_at": at,
                    "area_m2": s.area_m2,
                    "evidence": s.evidence,
                }
            )
            bump = bumps.setdefault(lead_id, [0, at])
            bump[0] += 1
            bump[1] = max(bump[1], at)
            results[i] = LeadBulkResult(lead_id, created=False, detection_added=True)
        if bumps:
            ids = sorted(bumps)
            list(Lead.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
            with connection.cursor() as cur:
                cur.execute(
                    f"""UPDATE {Lead._meta.db_table} AS l
                        SET detections = l.detections + v.k,
                            last_detected_at = GREATEST(l.last_detected_at, v.at),
                            updated_at = %s
                        FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[]) AS v(id, k, at)
                        WHERE l.id = v.id""",
                    [now, ids, [bumps[k][0] for k in ids], [bumps[k][1] for k in ids]],
                )
        lead_rows = [
            {
                "source": specs[i].source,
                "plan_id": specs[i].plan.pk,
                "unit_id": specs[i].unit.pk,  # type: ignore[union-attr]
                "division_id": specs[i].unit.division_id,  # type: ignore[union-attr]
                "target_id": specs[i].target_id,
                "title": specs[i].title,
                "description": specs[i].description,
                "reason": specs[i].reason,
                "geom": specs[i].geom,
                "area_m2": specs[i].area_m2,
                "change_class": specs[i].change_class,
                "layer_ref": specs[i].layer_ref,
                "evidence": specs[i].evidence,
                "detected_at": specs[i].detected_at or now,
                "last_detected_at": specs[i].detected_at or now,
                **({"evidence_status": specs[i].evidence_status} if specs[i].evidence_status else {}),
            }
            for i in new
        ]
        new_ids = _copy_values(Lead, lead_rows, with_ids=True, now=now)
        events = []
        for i, lead_id, row in zip(new, new_ids, lead_rows, strict=True):
            s = specs[i]
            detections.append(
                {
                    "lead_id": lead_id,
                    "source_key": s.source_key,
                    "layer_ref": s.layer_ref,
                    "detected_at": row["detected_at"],
                    "area_m2": s.area_m2,
                    "evidence": s.evidence,
                }
            )
            # Every lead's history starts with its creation ("" → new), as with lead_raise.
            events.append(
                {
                    "lead_id": lead_id,
                    "from_status": "",
                    "to_status": LeadStatus.NEW,
                    "at": now,
                    "comment": s.reason[:2000],
                    "data": {"source": s.source, "source_key": s.source_key},
                }
            )
            results[i] = LeadBulkResult(lead_id, created=True, detection_added=True)
        _copy_values(LeadDetection, detections)
        _copy_values(LeadEvent, events)
    lead_of_key = {**known, **{specs[i].source_key: results[i].lead_id for i in results}}
    return [results.get(i) or LeadBulkResult(lead_of_key[s.source_key], False, False) for i, s in enumerate(specs)]


def detections_recorded(*, source_keys: Sequence[str]) -> dict[str, int]:
    """Source key → lead id of the observations among `source_keys` already recorded (one query)."""
    keys = list(dict.fromkeys(source_keys))
    if not keys:
        return {}
    if connection.vendor != "postgresql":
        return dict(LeadDetection.objects.filter(source_key__in=keys).values_list("source_key", "lead_id"))
    # one array parameter, not a thousand placeholders; %b sends it binary (see _open_matches)
    with connection.cursor() as cur:
        cur.cursor.execute(
            f"SELECT source_key, lead_id FROM {LeadDetection._meta.db_table} WHERE source_key = ANY(%b)", [keys]
        )
        return dict(cur.fetchall())


def _copy_values(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    with_ids: bool = False,
    now: datetime | None = None,
) -> list[int]:
    """INSERT rows given as {attname: value} with one `COPY ... FROM STDIN` (PostgreSQL only).

    Several times faster than `bulk_create` for the thousands of leads, detections and
    events of a scan: no model instance and no SQL text per row, the server parses one
    stream. A field a row leaves out takes its default (`get_default`, as the ORM would);
    `auto_now`/`auto_now_add` fields take `now`. Values go through `get_db_prep_save`
    unless psycopg writes them as the ORM does (`_PLAIN_FIELDS`, datetimes); a geometry
    is written as hex EWKB (a GEOS geometry, or a string already in that form). With
    `with_ids` the primary keys are taken from the table's sequence first (one query)
    and returned in row order.
    """
    if not rows:
        return []
    meta = model._meta
    qn = connection.ops.quote_name
    now = now or timezone.now()
    fields = [f for f in meta.concrete_fields if with_ids or not f.primary_key]
    columns = ", ".join(qn(str(f.column)) for f in fields)
    plan = [(f.attname, f, _copy_writer(f)) for f in fields]
    ids: list[int] = []
    with connection.cursor() as cur:
        if with_ids:
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in cur.fetchall()]
        with cur.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for n, row in enumerate(rows):
                values = []
                for attname, field, write in plan:
                    if field.primary_key:
                        values.append(ids[n])
                    elif attname in row:
                        values.append(write(row[attname]))
                    else:
                        values.append(write(_default(model, field, now)))
                copy.write_row(values)
    return ids


def _default(model: type[models.Model], field: models.Field, now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default() or field.null or field.empty_strings_allowed:
        return field.get_default()  # a fresh one each row (dict, list); "" for text, as the ORM
    raise ValueError(f"{model.__name__}.{field.attname} has no value and no default")


def _copy_writer(field: models.Field):
    """How one field's value is written into the COPY stream."""
    from django.contrib.gis.db.models import GeometryField

    if isinstance(field, GeometryField):
        return lambda value: value if value is None or isinstance(value, str) else _hexewkb(value)
    if isinstance(field, (*_PLAIN_FIELDS, models.DateTimeField)):
        return lambda value: value
    return lambda value: value if value is None else field.get_db_prep_save(value, connection)


def _hexewkb(geom: GEOSGeometry | str) -> str:
    """A geometry as hex EWKB in STORAGE_SRID (what PostGIS reads as geometry text)."""
    if isinstance(geom, str):
        return geom
    return _storage(geom).hexewkb.decode()


# Field types whose Python value psycopg writes as the ORM would (str, int, float, bool,
# datetime, None): read straight from the instance, skipping get_db_prep_save per value.
_PLAIN_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.ForeignKey,
)


def _open_leads_within(specs: Sequence[LeadRaiseSpec], box: tuple[float, float, float, float]) -> bool:
    """Whether any open lead of the specs' sources, and not of their layer, meets the box (STORAGE_SRID)."""
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT EXISTS (SELECT 1 FROM {Lead._meta.db_table}
                WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, %s) AND source = ANY(%s) AND status = ANY(%s)
                  AND NOT (layer_ref = ANY(%s)))""",
            [
                *box,
                settings.STORAGE_SRID,
                sorted({s.source for s in specs}),
                list(LEAD_OPEN_STATUSES),
                sorted({s.layer_ref for s in specs if s.layer_ref}),
            ],
        )
        return bool(cur.fetchone()[0])


def _open_matches(specs: Sequence[LeadRaiseSpec]) -> dict[int, int]:
    """Position in `specs` → id of the oldest open lead it is a repeat of, in one query."""
    with connection.cursor() as cur:
        cur.cursor.execute(  # %b: arrays sent binary; the text format would scan every hex geometry for quoting
            f"""SELECT s.i, m.id
                FROM unnest(%b::int[], %b::text[], %b::bigint[], %b::int[], %b::text[])
                     AS s(i, source, unit_id, change_class, ewkb)
                CROSS JOIN LATERAL (
                    -- OFFSET 0 fences the candidates off from the ORDER BY ... LIMIT 1: without
                    -- it the planner walks the primary key over every lead, row after row
                    -- (seconds per thousand specs once the table holds thousands of leads)
                    -- instead of asking the spatial index.
                    SELECT c.id FROM (
                        SELECT l.id FROM {Lead._meta.db_table} AS l
                        WHERE ST_Intersects(l.geom, s.ewkb::geometry)
                          AND l.source = s.source
                          AND l.unit_id IS NOT DISTINCT FROM s.unit_id
                          AND l.change_class IS NOT DISTINCT FROM s.change_class
                          AND l.status = ANY(%b)
                        OFFSET 0
                    ) AS c
                    ORDER BY c.id LIMIT 1
                ) AS m""",
            [
                list(range(len(specs))),
                [s.source for s in specs],
                [s.unit.pk if s.unit else None for s in specs],
                [s.change_class for s in specs],
                [_hexewkb(s.geom) for s in specs],
                list(LEAD_OPEN_STATUSES),
            ],
        )
        return dict(cur.fetchall())


def _storage(geom: GEOSGeometry) -> GEOSGeometry:
    from supervision.zoning.selectors import geometry_transformed

    return geom if geom.srid == settings.STORAGE_SRID else geometry_transformed(geom, settings.STORAGE_SRID)


def _raise_one_by_one(specs: Sequence[LeadRaiseSpec], match_open_overlapping: bool) -> list[LeadBulkResult]:
    out = []
    with transaction.atomic():
        for s in specs:
            r = lead_raise(
                source=s.source,
                source_key=s.source_key,
                plan=s.plan,
                unit=s.unit,
                geom=GEOSGeometry(s.geom) if isinstance(s.geom, str) else s.geom,
                title=s.title,
                reason=s.reason,
                description=s.description,
                target=EnforcementTarget.objects.filter(pk=s.target_id).first() if s.target_id else None,
                change_class=s.change_class,
                area_m2=s.area_m2,
                layer_ref=s.layer_ref,
                evidence=s.evidence,
                detected_at=s.detected_at,
                match_open_overlapping=match_open_overlapping,
                evidence_status=s.evidence_status,
            )
            out.append(LeadBulkResult(r.lead.pk, r.created, r.detection_added))
    return out


def lead_evidence_complete(*, lead_id: int, files: Sequence[EvidenceFile], error: str = "") -> bool:
    """Attach a lead's rendered evidence files and mark them ready (or failed, with why).

    Compare-and-set on `evidence_status = pending`: a second run (a redelivered chip
    task) attaches nothing twice and returns False.
    """
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id, evidence_status=EvidenceStatus.PENDING).first()
        if lead is None:
            return False
        for f in files:
            Evidence.objects.create(
                lead=lead,
                kind=f.kind,
                file=ContentFile(f.content, name=f.name),
                content_type=f.content_type,
                size_bytes=len(f.content),
                caption=f.caption,
            )
        status = EvidenceStatus.FAILED if error else EvidenceStatus.READY
        fields: dict = {"evidence_status": status}
        if error:
            fields["evidence"] = {**lead.evidence, "evidence_error": error[:500]}
        Lead.objects.filter(pk=lead.pk).update(**fields)
    return True


def leads_take_back(*, created: Sequence[int], repeated: Sequence[tuple[int, str]]) -> tuple[int, int]:
    """Undo the raises of a scan run that did not finish; (leads removed, leads kept).

    A scan's windows commit their leads as they finish, so a run that then fails (or is
    requeued) takes back what it wrote: the leads it `created` that nobody has touched
    since (still new, unassigned, its one detection and its creation event only: a file
    attached or any step records an event; no case, field record or merged lead) are
    deleted with their detection and event (chips come only once a run is done); a
    lead somebody has acted on meanwhile is kept (its observation stays recorded, so a
    re-scan does not raise it twice). The detections it added to older open leads
    (`repeated`: lead id, source key) are removed again and those leads' counts restored.
    Under the bulk-raise lock, so no concurrent raise matches a lead while it goes.
    """
    from supervision.field.models import FieldRecord

    if not created and not repeated:
        return 0, 0
    created = list(created)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        candidates = Lead.objects.filter(pk__in=created)
        untouched = list(
            candidates.filter(
                status=LeadStatus.NEW,
                detections=1,
                assignee__isnull=True,
                merged_into__isnull=True,
                case__isnull=True,
            )
            .exclude(pk__in=LeadEvent.objects.filter(lead_id__in=created).exclude(from_status="").values("lead_id"))
            .exclude(pk__in=FieldRecord.objects.filter(lead_id__in=created).values("lead_id"))
            .exclude(pk__in=Lead.objects.filter(merged_into_id__in=created).values("merged_into_id"))
            .order_by("pk")
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )
        kept = candidates.exclude(pk__in=untouched).count()
        if untouched:
            import pgtrigger

            # the creation events of leads that never were (the run's rollback), past the append-only trigger
            with pgtrigger.ignore("cases.LeadEvent:append_only"):
                LeadEvent.objects.filter(lead_id__in=untouched).delete()
            Lead.objects.filter(pk__in=untouched).delete()
        if repeated:
            removed: dict[int, int] = {}
            for lead_id, _key in LeadDetection.objects.filter(
                source_key__in=[key for _lead, key in repeated], lead_id__in={lead for lead, _key in repeated}
            ).values_list("lead_id", "source_key"):
                removed[lead_id] = removed.get(lead_id, 0) + 1
            LeadDetection.objects.filter(source_key__in=[key for _lead, key in repeated]).filter(
                lead_id__in=list(removed)
            ).delete()
            last = LeadDetection.objects.filter(lead_id=OuterRef("pk")).values("lead_id").annotate(m=Max("detected_at"))
            by_count: dict[int, list[int]] = {}
            for lead_id, k in removed.items():
                by_count.setdefault(k, []).append(lead_id)
            for k, ids in by_count.items():
                Lead.objects.filter(pk__in=ids).update(
                    detections=Greatest(F("detections") - k, 1),
                    last_detected_at=Coalesce(Subquery(last.values("m")), F("detected_at")),
                    updated_at=timezone.now(),
                )
    return len(untouched), kept
