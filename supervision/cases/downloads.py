"""Stored attachments as HTTP responses, for the API and the pages alike.

Production does not serve MEDIA_ROOT: every file leaves through a signed-in, scoped
route (`/api/v1/attachments/<id>/download/`, the desk's `/desk/evidence/<id>/`), which
looks the attachment up with `selectors.evidence_for` (the user's leads and cases).
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from django.http import FileResponse
from django.utils.translation import gettext as _

from supervision.errors import NotFound

from . import selectors
from .models import Evidence

logger = logging.getLogger(__name__)

# Shown in the browser (images in <img>, PDFs in its viewer); anything else is saved.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})


def evidence_get_for(*, user, evidence_id: int) -> Evidence:
    """The attachment if the user may see its lead or case; NotFound (404) otherwise, as for a missing one."""
    evidence = selectors.evidence_for(user=user).filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound(_("Attachment %(id)s not found.") % {"id": evidence_id}, code="not_found")
    return evidence


def evidence_file_response(evidence: Evidence) -> FileResponse:
    """The file with its checked content type, a download name and nosniff; NotFound if the file is gone."""
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, ValueError):
        logger.error("attachment %s: its file is missing from storage", evidence.pk)
        raise NotFound(
            _("The file of attachment %(id)s is missing.") % {"id": evidence.pk}, code="file_missing"
        ) from None
    content_type = evidence.content_type or "application/octet-stream"
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=content_type not in INLINE_TYPES,
        filename=PurePosixPath(evidence.file.name).name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Files are private: never kept by a shared proxy.
    response["Cache-Control"] = "private, max-age=3600"
    return response
