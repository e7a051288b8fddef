"""The change-layer inbox: GeoTIFFs dropped into CHANGE_LAYER_INBOX with a sidecar JSON.

`scene.tif` is picked up once `scene.json` exists (write the JSON last), e.g.
``{"plan": "changchun-2024", "kind": "landcover", "before_date": "2024-05-01",
"after_date": "2024-09-01", "sensor": "GF-1", "source": "省卫星中心"}``; optional
``threshold``, ``min_area_m2``, ``before_image``, ``after_image``. A taken file moves to
``done/`` (and is registered there) or to ``failed/`` with ``<name>.error.txt``.
Several beat runs at once are safe: the sidecar is claimed by an atomic rename.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from supervision.errors import ServiceError

from ..models import ChangeLayer
from .layers import file_sha256, layer_register, layer_scan, plan_for_code

logger = logging.getLogger(__name__)

_SUFFIXES = (".tif", ".tiff")
_FIELDS = {"threshold", "min_area_m2", "sensor", "source", "before_image", "after_image"}


def _sidecar_fields(data: dict) -> dict:
    fields = {k: data[k] for k in _FIELDS if data.get(k) not in (None, "")}
    for key in ("before_date", "after_date"):
        if data.get(key):
            try:
                fields[key] = date.fromisoformat(str(data[key]))
            except ValueError:
                raise ServiceError(
                    _("%(key)s '%(value)s' is not a date (YYYY-MM-DD).") % {"key": key, "value": data[key]}
                ) from None
    for key in ("threshold", "min_area_m2"):
        if key in fields:
            try:
                fields[key] = float(fields[key])
            except (TypeError, ValueError):
                raise ServiceError(
                    _("%(key)s '%(value)s' is not a number.") % {"key": key, "value": fields[key]}
                ) from None
    return fields


def inbox_collect(*, inbox_dir: str | None = None) -> list[ChangeLayer]:
    """Register and queue every complete (GeoTIFF + sidecar) pair in the inbox; returns new layers."""
    inbox = Path(inbox_dir or settings.CHANGE_LAYER_INBOX)
    if not inbox.is_dir():
        return []
    done_dir, failed_dir = inbox / "done", inbox / "failed"
    layers: list[ChangeLayer] = []
    for tif in sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES):
        sidecar = tif.with_suffix(".json")
        claimed = tif.with_suffix(".json.taken")
        try:
            os.rename(sidecar, claimed)  # atomic: of two beat runs, one takes the file
        except FileNotFoundError:
            continue
        final: Path | None = None
        try:
            data = json.loads(claimed.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not data.get("plan") or not data.get("kind"):
                raise ServiceError(
                    _("%(sidecar_name)s: needs at least 'plan' and 'kind'.") % {"sidecar_name": sidecar.name}
                )
            plan = plan_for_code(code=str(data["plan"]))
            fields = _sidecar_fields(data)
            done_dir.mkdir(exist_ok=True)
            # Named by content: a later file with the same name never overwrites a registered one.
            final = done_dir / f"{file_sha256(tif)[:16]}-{tif.name}"
            os.replace(tif, final)
            with transaction.atomic():
                reg = layer_register(plan=plan, path=str(final), kind=str(data["kind"]), **fields)
                if reg.created:
                    layer_scan(layer=reg.layer)
                    layers.append(reg.layer)
            os.replace(claimed, done_dir / sidecar.name)
            logger.info("inbox: %s → change layer #%s (%s)", tif.name, reg.layer.pk, "new" if reg.created else "known")
        except (ServiceError, ValueError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            failed_dir.mkdir(exist_ok=True)
            if final is not None and final.exists() and not ChangeLayer.objects.filter(path=str(final)).exists():
                os.replace(final, failed_dir / tif.name)
            elif tif.exists():
                os.replace(tif, failed_dir / tif.name)
            if claimed.exists():
                os.replace(claimed, failed_dir / sidecar.name)
            (failed_dir / f"{tif.name}.error.txt").write_text(message + "\n", encoding="utf-8")
            logger.warning("inbox: %s refused: %s", tif.name, message)
    return layers
