"""Checking and storing uploaded files (photos, PDFs) on leads, cases and their events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _

from supervision.errors import ServiceError

from ..choices import EvidenceKind
from ..models import Case, CaseEvent, Evidence, Lead, LeadEvent
from ..validators import attachment_content_check, attachment_content_type


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str

    @property
    def kind(self) -> str:
        return EvidenceKind.DOCUMENT if self.content_type == "application/pdf" else EvidenceKind.PHOTO


def attachments_check(*, files: Sequence[File]) -> list[CheckedFile]:
    """Read and check every file before anything is written; one ServiceError lists all problems."""
    max_bytes = settings.CASES_ATTACHMENT_MAX_BYTES
    checked, problems = [], []
    for f in files:
        name = getattr(f, "name", "") or "file"
        name = name.rsplit("/", 1)[-1]
        size = getattr(f, "size", None)
        if size is not None and size > max_bytes:
            # Refuse before reading a large file into memory.
            problems.append(
                f"'{name}' is {size / 1048576:.1f} MB; attachments may be at most {max_bytes / 1048576:.1f} MB."
            )
            continue
        f.seek(0)
        content = f.read()
        try:
            content_type = attachment_content_type(name=name, head=content[:16], size=len(content), max_bytes=max_bytes)
            # The first bytes only say what the file claims to be; decode it all to be sure.
            attachment_content_check(
                name=name, content=content, content_type=content_type, max_pixels=settings.CASES_ATTACHMENT_MAX_PIXELS
            )
        except ValidationError as exc:
            problems.extend(exc.messages)
            continue
        checked.append(CheckedFile(name, content, content_type))
    if problems:
        raise ServiceError(_("Attachment refused: ") + " ".join(problems), problems=problems, code="bad_attachment")
    return checked


def attachments_store(
    *,
    files: Sequence[CheckedFile],
    actor,
    lead: Lead | None = None,
    case: Case | None = None,
    lead_event: LeadEvent | None = None,
    case_event: CaseEvent | None = None,
    caption: str = "",
) -> list[Evidence]:
    return [
        Evidence.objects.create(
            lead=lead,
            case=case,
            lead_event=lead_event,
            case_event=case_event,
            kind=f.kind,
            file=ContentFile(f.content, name=f.name),
            content_type=f.content_type,
            size_bytes=len(f.content),
            caption=caption[:200],
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        for f in files
    ]
