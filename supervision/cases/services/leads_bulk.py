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
    geom: GEOSGeometry
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


def leads_raise_bulk(*, specs: Sequence[LeadRaiseSpec], match_open_overlapping: bool = False) -> list[LeadBulkResult]:
    """Raise a batch of leads set-wise; one result per spec, in order. Atomic per call.

    Specs of one batch should not overlap each other (a scan's patches never do: two
    patches of one class are never 8-connected). A source key repeated in the batch
    counts once, like calling `lead_raise` twice.
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
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        known = detections_recorded(source_keys=[s.source_key for s in specs])
        todo: list[int] = []
        seen: set[str] = set()
        for i, s in enumerate(specs):
            if s.source_key not in known and s.source_key not in seen:
                todo.append(i)
                seen.add(s.source_key)
        matched = _open_matches([specs[i] for i in todo]) if match_open_overlapping and todo else {}
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
        leads = [
            Lead(
                source=specs[i].source,
                plan=specs[i].plan,
                unit=specs[i].unit,
                division_id=specs[i].unit.division_id,  # type: ignore[union-attr]
                target_id=specs[i].target_id,
                title=specs[i].title,
                description=specs[i].description,
                reason=specs[i].reason,
                geom=specs[i].geom,
                area_m2=specs[i].area_m2,
                change_class=specs[i].change_class,
                layer_ref=specs[i].layer_ref,
                evidence=specs[i].evidence,
                detected_at=specs[i].detected_at or now,
                last_detected_at=specs[i].detected_at or now,
                **({"evidence_status": specs[i].evidence_status} if specs[i].evidence_status else {}),
            )
            for i in new
        ]
        _copy_insert(Lead, leads, with_ids=True)
        events = []
        for i, lead in zip(new, leads, strict=True):
            s = specs[i]
            detections.append(
                {
                    "lead_id": lead.pk,
                    "source_key": s.source_key,
                    "layer_ref": s.layer_ref,
                    "detected_at": lead.detected_at,
                    "area_m2": s.area_m2,
                    "evidence": s.evidence,
                }
            )
            # Every lead's history starts with its creation ("" → new), as with lead_raise.
            events.append(
                {
                    "lead_id": lead.pk,
                    "from_status": "",
                    "to_status": LeadStatus.NEW,
                    "at": now,
                    "comment": s.reason[:2000],
                    "data": {"source": s.source, "source_key": s.source_key},
                }
            )
            results[i] = LeadBulkResult(lead.pk, created=True, detection_added=True)
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
    with connection.cursor() as cur:  # one array parameter, not a thousand placeholders
        cur.execute(
            f"SELECT source_key, lead_id FROM {LeadDetection._meta.db_table} WHERE source_key = ANY(%s)", [keys]
        )
        return dict(cur.fetchall())


def _copy_insert(model: type[models.Model], objs: Sequence[models.Model], *, with_ids: bool = False) -> None:
    """INSERT model instances with one `COPY ... FROM STDIN` (PostgreSQL only).

    Several times faster than `bulk_create` for thousands of rows: no SQL text is built
    per row and the server parses one stream. With `with_ids` the primary keys are taken
    from the table's sequence first (one query) and set on the instances, as
    `bulk_create` would. Values go through each field's `pre_save` (auto_now) and
    `get_db_prep_save`, so defaults, JSON and geometry are what the ORM would write.
    """
    if not objs:
        return
    meta = model._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if with_ids or not f.primary_key]
    with connection.cursor() as cur:
        if with_ids:
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cur.fetchall(), strict=True):
                obj.pk = pk
        columns = ", ".join(qn(str(f.column)) for f in fields)  # concrete fields: never None
        getters = [_copy_getter(f) for f in fields]
        with cur.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([get(obj) for get in getters])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _copy_values(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows given as {attname: value} with one `COPY ... FROM STDIN` (PostgreSQL only).

    For the thousands of detections and events of a scan: no model instance is built per
    row. A field a row leaves out takes its default (`get_default`, as the ORM would);
    values go through `get_db_prep_save` unless psycopg writes them as the ORM does
    (`_PLAIN_FIELDS`, datetimes). Fields with `auto_now` or a primary key are not allowed.
    """
    if not rows:
        return
    meta = model._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(qn(str(f.column)) for f in fields)
    plan = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            raise ValueError(f"{model.__name__}.{f.name}: auto_now fields need _copy_insert")
        plain = isinstance(f, (*_PLAIN_FIELDS, models.DateTimeField))
        plan.append((f.attname, f, plain, f.get_default() if f.has_default() or f.null else _REQUIRED))
    with connection.cursor() as cur:
        with cur.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = []
                for attname, field, plain, default in plan:
                    if attname in row:
                        value = row[attname]
                    elif default is _REQUIRED:
                        raise ValueError(f"{model.__name__}.{attname} has no value and no default")
                    else:
                        value = field.get_default()  # a fresh one each row (dict, list)
                    values.append(value if plain or value is None else field.get_db_prep_save(value, connection))
                copy.write_row(values)


_REQUIRED = object()


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


def _copy_getter(field: models.Field):
    """How to read one field's COPY value from an instance."""
    from django.contrib.gis.db.models import GeometryField

    attname = field.attname
    if isinstance(field, _PLAIN_FIELDS) and not getattr(field, "auto_now", False):
        return lambda obj: getattr(obj, attname)
    if isinstance(field, models.DateTimeField) and not (field.auto_now or field.auto_now_add):
        return lambda obj: getattr(obj, attname)
    if isinstance(field, GeometryField):

        def geometry(obj):
            geom = getattr(obj, attname)
            if geom is not None and geom.srid == field.srid:
                return geom.hexewkb.decode()  # PostGIS reads hex EWKB as geometry text
            return field.get_db_prep_save(field.pre_save(obj, True), connection)

        return geometry
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


def _open_matches(specs: Sequence[LeadRaiseSpec]) -> dict[int, int]:
    """Position in `specs` → id of the oldest open lead it is a repeat of, in one query."""
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT s.i, m.id
                FROM unnest(%s::int[], %s::text[], %s::bigint[], %s::int[], %s::bytea[])
                     AS s(i, source, unit_id, change_class, wkb)
                CROSS JOIN LATERAL (
                    -- OFFSET 0 fences the candidates off from the ORDER BY ... LIMIT 1: without
                    -- it the planner walks the primary key over every lead, row after row
                    -- (seconds per thousand specs once the table holds thousands of leads)
                    -- instead of asking the spatial index.
                    SELECT c.id FROM (
                        SELECT l.id FROM {Lead._meta.db_table} AS l
                        WHERE ST_Intersects(l.geom, ST_GeomFromWKB(s.wkb, %s))
                          AND l.source = s.source
                          AND l.unit_id IS NOT DISTINCT FROM s.unit_id
                          AND l.change_class IS NOT DISTINCT FROM s.change_class
                          AND l.status = ANY(%s)
                        OFFSET 0
                    ) AS c
                    ORDER BY c.id LIMIT 1
                ) AS m""",
            [
                list(range(len(specs))),
                [s.source for s in specs],
                [s.unit.pk if s.unit else None for s in specs],
                [s.change_class for s in specs],
                [bytes(_storage(s.geom).wkb) for s in specs],
                settings.STORAGE_SRID,
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
                geom=s.geom,
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
            )
            if r.created and s.evidence_status:
                Lead.objects.filter(pk=r.lead.pk).update(evidence_status=s.evidence_status)
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
