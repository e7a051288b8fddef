"""Who may upload change layers, and when an upload is scanned: one rule for the API and the pages."""

from __future__ import annotations

from supervision.cases import permissions as case_perms

from .choices import LayerStatus


def layer_upload_allowed(user) -> bool:
    """Bureau admins (or anyone given the model permission) upload change layers; everyone signed in reads them."""
    if not (user and user.is_authenticated):
        return False
    return user.has_perm("remote_sensing.add_changelayer") or case_perms.ADMIN in case_perms.user_roles(user)


def layer_upload_scans(*, created: bool, status: str) -> bool:
    """A new file is scanned; the same file again is scanned again only when its last scan failed."""
    return created or status == LayerStatus.FAILED
