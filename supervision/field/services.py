"""Syncing what a device recorded offline: exactly once, through the cases services, conflicts told.

Every record carries a UUID made on the device (`client_id`). The first time it arrives a
`FieldRecord` row is inserted *before* the work is done, in the same transaction: a
concurrent resend of the same id waits on the unique index and then finds the row; a
later resend finds the row and gets the stored reply back. Nothing is written twice.

A conflict — the item was answered differently on the server meanwhile, the inspection
was completed by someone else, the lead moved on — raises `FieldConflict` (409) carrying
the server's version; the transaction rolls back, so the record is not kept and the
person can decide on the device.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.cases import permissions as perms
from supervision.cases.choices import LEAD_VERIFYING_STATUSES, ChecklistResult, InspectionStatus, LeadEventKind
from supervision.cases.models import ChecklistItem, Inspection, Lead, LeadEvent
from supervision.cases.services import inspections as inspection_services
from supervision.cases.services import leads as lead_services
from supervision.cases.services.attachments import attachments_check
from supervision.errors import Conflict, NotFound, ServiceError

from .choices import FieldRecordKind
from .models import FieldPhoto, FieldRecord
from .selectors import field_inspection_get, field_lead_get, item_version, lead_version


class FieldConflict(Conflict):
    """The server's state differs from what the device assumed; `server` is the server's version."""

    def __init__(self, message: str, *, code: str, server: dict):
        super().__init__(message, code=code)
        self.server = server


@dataclass(frozen=True)
class SyncResult:
    record: FieldRecord
    created: bool  # False: a resend, answered with the stored reply

    @property
    def response(self) -> dict:
        return self.record.response


# Where and when the device says a record was made: the cases services' DevicePlace (one rule).
Place = inspection_services.DevicePlace
NO_PLACE = inspection_services.NO_PLACE


def _resent(*, client_id: uuid.UUID, actor, kind: str, payload: dict) -> SyncResult | None:
    record = FieldRecord.objects.filter(client_id=client_id).first()
    if record is None:
        return None
    if record.user_id != actor.pk or record.kind != kind or record.payload != payload:
        raise Conflict(
            _("Record %(id)s was already synced with other content; it is not stored again.") % {"id": client_id},
            code="client_id_reused",
        )
    return SyncResult(record, created=False)


def _sync_once(
    *, client_id: uuid.UUID, actor, kind: str, payload: dict, place: Place, links: dict, work: Callable[[], dict]
) -> SyncResult:
    """Insert the record, do the work, store its reply; a resend (even a concurrent one) gets the stored reply."""
    found = _resent(client_id=client_id, actor=actor, kind=kind, payload=payload)
    if found:
        return found
    try:
        with transaction.atomic():
            record = FieldRecord.objects.create(
                client_id=client_id,
                kind=kind,
                user=actor,
                payload=payload,
                latitude=place.latitude,
                longitude=place.longitude,
                recorded_at=place.at,
                **links,
            )
            record.response = {"client_id": str(client_id), "kind": kind, **work()}
            record.response["received_at"] = record.received_at.isoformat()
            FieldRecord.objects.filter(pk=record.pk).update(response=record.response)
    except IntegrityError:
        # A concurrent request with the same id committed first (the unique index made us wait).
        found = _resent(client_id=client_id, actor=actor, kind=kind, payload=payload)
        if found is None:
            raise
        return found
    return SyncResult(record, created=True)


def field_answer_sync(
    *,
    actor,
    client_id: uuid.UUID,
    inspection_id: int,
    item_id: int,
    result: str,
    note: str = "",
    place: Place = NO_PLACE,
) -> SyncResult:
    """A checklist answer made offline: recorded through `checklist_item_record`, once.

    An assigned inspection is started first (the inspector began it in the field). The
    same answer already on the server is no conflict; another answer is.
    """
    note = (note or "").strip()
    payload = {"inspection": inspection_id, "item": item_id, "result": result, "note": note}
    inspection = field_inspection_get(actor=actor, inspection_id=inspection_id)
    item = ChecklistItem.objects.filter(pk=item_id, inspection=inspection).first()
    if item is None:
        raise NotFound(_("Checklist item %(id)s not found.") % {"id": item_id}, code="not_found")

    def work() -> dict:
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        current = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        outcome = "recorded"
        if current.result != ChecklistResult.PENDING:
            if current.result == result and current.note == note:
                outcome = "already_recorded"
            else:
                raise FieldConflict(
                    _("Item %(position)s was already recorded as “%(result)s” on the server.")
                    % {"position": current.position, "result": ChecklistResult(current.result).label},
                    code="answer_conflict",
                    server=item_version(current),
                )
        elif locked.status == InspectionStatus.COMPLETED:
            raise FieldConflict(
                _("Inspection %(id)s was completed meanwhile.") % {"id": locked.pk},
                code="inspection_completed",
                server=item_version(current),
            )
        else:
            if locked.status == InspectionStatus.ASSIGNED:
                inspection_services.inspection_start(
                    inspection=locked, actor=actor, comment=_("Started in the field (synced from the device).")
                )
            try:
                current = inspection_services.checklist_item_record(
                    item=current, actor=actor, result=result, note=note, place=place
                )
            except ServiceError as exc:
                if exc.code != "already_recorded":
                    raise
                current.refresh_from_db()
                raise FieldConflict(exc.message, code="answer_conflict", server=item_version(current)) from exc
        return {"outcome": outcome, **item_version(current)}

    return _sync_once(
        client_id=client_id,
        actor=actor,
        kind=FieldRecordKind.ANSWER,
        payload=payload,
        place=place,
        links={"inspection": inspection, "item": item},
        work=work,
    )


def field_finding_sync(
    *, actor, client_id: uuid.UUID, lead_id: int, finding: str, place: Place = NO_PLACE
) -> SyncResult:
    """A lead verification finding (现场核查情况) written offline: one event in the lead's history, once.

    A dispatched lead moves to verifying when the person may start verification; a lead
    that has been concluded (dismissed, merged, confirmed) meanwhile is a conflict.
    """
    finding = (finding or "").strip()
    if not finding:
        raise ServiceError(_("Write what was found on site."), code="finding_required")
    payload = {"lead": lead_id, "finding": finding}
    lead = field_lead_get(actor=actor, lead_id=lead_id)
    perms.require_role(actor, "lead.attach")

    def work() -> dict:
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        if current.status not in LEAD_VERIFYING_STATUSES:
            raise FieldConflict(
                _("Lead %(id)s is no longer being verified (now: %(status)s).")
                % {"id": current.pk, "status": current.get_status_display()},
                code="lead_moved_on",
                server=lead_version(current),
            )
        if current.status != "verifying" and perms.user_roles(actor) & perms.ACTION_ROLES["lead.start_verification"]:
            current = lead_services.lead_start_verification(
                lead=current, actor=actor, comment=_("On-site check (synced from the device).")
            )
        event = LeadEvent.objects.create(
            lead=current,
            kind=LeadEventKind.ATTACHMENT,
            from_status=current.status,
            to_status=current.status,
            actor=actor,
            at=timezone.now(),
            comment=finding,
            data={
                "field_finding": {
                    "client_id": str(client_id),
                    "latitude": place.latitude,
                    "longitude": place.longitude,
                    "observed_at": place.at.isoformat() if place.at else None,
                }
            },
        )
        return {"outcome": "recorded", "event": event.pk, **lead_version(current)}

    return _sync_once(
        client_id=client_id,
        actor=actor,
        kind=FieldRecordKind.FINDING,
        payload=payload,
        place=place,
        links={"lead": lead},
        work=work,
    )


def field_photo_sync(
    *,
    actor,
    client_id: uuid.UUID,
    file: File,
    inspection_id: int | None = None,
    item_id: int | None = None,
    lead_id: int | None = None,
    caption: str = "",
    place: Place = NO_PLACE,
) -> SyncResult:
    """A photo with GPS (and its accuracy) and time, on a checklist item (kept here) or on a lead (its Evidence), once."""
    if (item_id is None) == (lead_id is None):
        raise ServiceError(_("A photo belongs to one checklist item or one lead."), code="photo_target")
    caption = (caption or "").strip()[:200]
    taken_at = place.at or timezone.now()
    payload = {"inspection": inspection_id, "item": item_id, "lead": lead_id, "caption": caption}
    links: dict = {}
    if item_id is not None:
        if inspection_id is None:
            raise ServiceError(_("Name the inspection of the checklist item."), code="inspection_required")
        inspection = field_inspection_get(actor=actor, inspection_id=inspection_id)
        item = ChecklistItem.objects.filter(pk=item_id, inspection=inspection).first()
        if item is None:
            raise NotFound(_("Checklist item %(id)s not found.") % {"id": item_id}, code="not_found")
        perms.require_role(actor, "inspection.record")
        links = {"inspection": inspection, "item": item}
    else:
        lead = field_lead_get(actor=actor, lead_id=lead_id)  # type: ignore[arg-type]
        links = {"lead": lead}
    found = _resent(client_id=client_id, actor=actor, kind=FieldRecordKind.PHOTO, payload=payload)
    if found:
        return found  # checked before reading the file: a resend costs no storage
    checked = attachments_check(files=[file])
    if not checked or not checked[0].content_type.startswith("image/"):
        raise ServiceError(_("A field photo must be a JPEG or PNG image."), code="bad_attachment")
    photo_file = checked[0]
    where = ""
    if place.latitude is not None and place.longitude is not None:
        where = f"{place.latitude:.6f}, {place.longitude:.6f}"

    def work() -> dict:
        common = dict(
            content_type=photo_file.content_type,
            size_bytes=len(photo_file.content),
            latitude=place.latitude,
            longitude=place.longitude,
            accuracy_m=place.accuracy_m,
            taken_at=taken_at,
            caption=caption,
            uploaded_by=actor,
        )
        record = FieldRecord.objects.get(client_id=client_id)
        if "item" in links:
            photo = FieldPhoto.objects.create(
                record=record,
                item=links["item"],
                file=ContentFile(photo_file.content, name=photo_file.name),
                **common,
            )
        else:
            label = " · ".join(
                x for x in (caption, where, timezone.localtime(taken_at).strftime("%Y-%m-%d %H:%M")) if x
            )
            evidence = lead_services.lead_attach(
                lead=links["lead"],
                actor=actor,
                files=[ContentFile(photo_file.content, name=photo_file.name)],
                caption=label,
            )[0]
            photo = FieldPhoto.objects.create(record=record, evidence=evidence, **common)
        return {
            "outcome": "stored",
            "photo": photo.pk,
            "item": links["item"].pk if "item" in links else None,
            "lead": links["lead"].pk if "lead" in links else None,
            "evidence": photo.evidence_id,
            "size_bytes": photo.size_bytes,
            "latitude": photo.latitude,
            "longitude": photo.longitude,
            "taken_at": photo.taken_at.isoformat(),
        }

    return _sync_once(
        client_id=client_id,
        actor=actor,
        kind=FieldRecordKind.PHOTO,
        payload=payload,
        place=place,
        links=links,
        work=work,
    )
