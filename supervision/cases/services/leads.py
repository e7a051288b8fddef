"""Everything that writes leads (and, as the workflow grows, cases and inspections)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.gis.geos import GEOSGeometry
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from supervision.errors import ServiceError
from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

from ..choices import LEAD_OPEN_STATUSES, LeadSource
from ..models import EnforcementTarget, Evidence, Lead, LeadDetection


@dataclass(frozen=True)
class EvidenceFile:
    """A file to attach to a lead when it is raised (e.g. a scan's PNG chip)."""

    name: str
    content: bytes
    kind: str
    content_type: str
    caption: str = ""


@dataclass(frozen=True)
class LeadRaiseResult:
    lead: Lead
    created: bool
    detection_added: bool


def lead_raise(
    *,
    source: str,
    source_key: str,
    plan: ZoningPlan,
    geom: GEOSGeometry,
    title: str,
    reason: str,
    description: str = "",
    unit: ControlUnit | None = None,
    division: AdministrativeDivision | None = None,
    target: EnforcementTarget | None = None,
    change_class: int | None = None,
    area_m2: float | None = None,
    layer_ref: str = "",
    evidence: dict | None = None,
    files: list[EvidenceFile] | tuple[EvidenceFile, ...] = (),
    detected_at: datetime | None = None,
    match_open_overlapping: bool = False,
) -> LeadRaiseResult:
    """Raise a lead, or record one more detection of an open one; never twice for one observation.

    `source_key` names one observation naturally (a layer + patch + unit, a station +
    day + parameter...): seeing it again changes nothing. With `match_open_overlapping`,
    an open lead of the same source, unit and change class whose geometry intersects
    this one is the same problem seen again: its detection count and last-seen time
    move on instead of a new lead being made.
    """
    if source not in LeadSource.values:
        raise ServiceError(f"Unknown lead source '{source}'.")
    division = division or (unit.division if unit else None)
    if division is None:
        raise ServiceError("A lead needs a responsible division (or a unit that has one).")
    detected_at = detected_at or timezone.now()
    existing = LeadDetection.objects.filter(source_key=source_key).select_related("lead").first()
    if existing is not None:
        return LeadRaiseResult(existing.lead, created=False, detection_added=False)
    try:
        with transaction.atomic():
            match = None
            if match_open_overlapping:
                match = (
                    Lead.objects.select_for_update()
                    .filter(
                        source=source,
                        unit=unit,
                        change_class=change_class,
                        status__in=LEAD_OPEN_STATUSES,
                        geom__intersects=geom,
                    )
                    .order_by("id")
                    .first()
                )
            if match is not None:
                LeadDetection.objects.create(
                    lead=match, source_key=source_key, layer_ref=layer_ref, detected_at=detected_at, area_m2=area_m2,
                    evidence=evidence or {},
                )
                Lead.objects.filter(pk=match.pk).update(
                    detections=F("detections") + 1, last_detected_at=max(detected_at, match.last_detected_at)
                )
                match.refresh_from_db()
                return LeadRaiseResult(match, created=False, detection_added=True)
            lead = Lead.objects.create(
                source=source,
                plan=plan,
                unit=unit,
                division=division,
                target=target,
                title=title,
                description=description,
                reason=reason,
                geom=geom,
                area_m2=area_m2,
                change_class=change_class,
                layer_ref=layer_ref,
                evidence=evidence or {},
                detected_at=detected_at,
                last_detected_at=detected_at,
            )
            LeadDetection.objects.create(
                lead=lead, source_key=source_key, layer_ref=layer_ref, detected_at=detected_at, area_m2=area_m2,
                evidence=evidence or {},
            )
            for f in files:
                Evidence.objects.create(
                    lead=lead,
                    kind=f.kind,
                    file=ContentFile(f.content, name=f.name),
                    content_type=f.content_type,
                    size_bytes=len(f.content),
                    caption=f.caption,
                )
            return LeadRaiseResult(lead, created=True, detection_added=True)
    except IntegrityError:
        # Another worker recorded the same observation first: theirs stands.
        existing = LeadDetection.objects.filter(source_key=source_key).select_related("lead").first()
        if existing is None:
            raise
        return LeadRaiseResult(existing.lead, created=False, detection_added=False)
