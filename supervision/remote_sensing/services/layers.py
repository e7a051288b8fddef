"""Change layers: register a GeoTIFF, scan it window by window, raise leads where the pixels are.

One scan, end to end (ARCHITECTURE.md): `layer_register` validates the file and stores
a `ChangeLayer` (queued); `layer_scan` queues the scan; the task calls
`layer_scan_start` (one running layer per plan and per file; windows planned, one row
each); a group of `layer_window_scan` tasks each raise the leads of the patches wholly
inside their window and store the parts cut by its edges (leads and row in one
transaction); the chord callback `layer_merge` joins the edge parts, raises their leads
and marks the layer done, then the evidence chips are queued. A run that fails (or is
requeued) takes back the leads its windows committed (`leads_take_back`), except those
somebody acted on meanwhile; so a failed scan leaves no leads of its own making.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.cases.choices import EvidenceKind, EvidenceStatus, LeadSource
from supervision.cases.services.leads import EvidenceFile
from supervision.cases.services.leads_bulk import (
    LeadRaiseSpec,
    detections_recorded,
    lead_evidence_complete,
    leads_raise_bulk,
    leads_take_back,
)
from supervision.errors import Conflict, NotFound, ServiceError, without_dirs
from supervision.queueing import task_send, task_send_on_commit
from supervision.workflow import transition_to
from supervision.zoning.choices import UnitClass
from supervision.zoning.models import ControlUnit, ZoningPlan
from supervision.zoning.selectors import plan_in_force_check

from .. import raster
from ..choices import LAYER_TRANSITIONS, LayerKind, LayerStatus, WindowStatus
from ..geo import bounds_storage_to_crs, bounds_to_storage, shapes_to_storage_wkb, storage_to_crs
from ..models import ChangeLayer, ChangeLayerEvent, ChangeLayerWindow, ScanRuleSet
from ..raster.chips import change_chip_png, image_chip_png
from ..selectors import plan_bounds_lonlat, targets_nearest, units_in_bbox

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LayerRegistration:
    layer: ChangeLayer
    created: bool


@dataclass
class MergeOutcome:
    created: int = 0
    repeated: int = 0
    unchanged: int = 0
    new_lead_ids: list[int] = field(default_factory=list)


# ------------------------------------------------------------------ rules


def scan_rules_get(*, plan: ZoningPlan) -> ScanRuleSet:
    """The plan's rule set, created with the defaults the first time it is needed."""
    rules, _created = ScanRuleSet.objects.get_or_create(plan=plan)
    return rules


def scan_rules_update(
    *,
    plan: ZoningPlan,
    classes_by_unit_class: dict[str, list[int]] | None = None,
    min_area_m2: float | None = None,
    ndvi_threshold: float | None = None,
    legend: dict[str, str] | None = None,
    decline_margin_pct: float | None = None,
) -> ScanRuleSet:
    """Change a plan's rules; the pure core checks the classes against the legend."""
    rs = scan_rules_get(plan=plan)
    if classes_by_unit_class is not None:
        unknown = set(classes_by_unit_class) - set(UnitClass.values)
        if unknown:
            raise ServiceError(
                _("Unknown unit classes %(value)s; expected %(UnitClass_values)s.")
                % {"value": sorted(unknown), "UnitClass_values": UnitClass.values}
            )
        rs.classes_by_unit_class = {k: sorted(int(c) for c in v) for k, v in classes_by_unit_class.items()}
    for name, value in (
        ("min_area_m2", min_area_m2),
        ("ndvi_threshold", ndvi_threshold),
        ("legend", legend),
        ("decline_margin_pct", decline_margin_pct),
    ):
        if value is not None:
            setattr(rs, name, value)
    try:
        raster.ScanRules(kind="landcover", min_area_m2=rs.min_area_m2, classes_by_unit_class=rs.classes_by_unit_class)
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    rs.save()
    return rs


def _scan_rules_for(layer: ChangeLayer) -> raster.ScanRules:
    rs = scan_rules_get(plan=layer.plan)
    return raster.ScanRules(
        kind=layer.kind,
        threshold=layer.threshold if layer.threshold is not None else rs.ndvi_threshold,
        min_area_m2=layer.min_area_m2 if layer.min_area_m2 is not None else rs.min_area_m2,
        classes_by_unit_class={k: tuple(v) for k, v in rs.classes_by_unit_class.items()},
    )


# ------------------------------------------------------------- registration


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def source_fingerprint(*, source: str) -> tuple[str, str, int]:
    """(normalised source, checksum, size in bytes) of a layer's raster, local or remote.

    A local file (or shared mount) is hashed whole (SHA-256). A remote COG is never
    downloaded: an HTTP(S) URL is fingerprinted by a HEAD request (URL, ETag,
    Last-Modified, length), an S3 object by its URL and raster header (a new version of
    an S3 object should get a new key). So a changed HTTP object gets a new checksum.
    """
    source = source.strip()
    if raster.source_is_remote(source):
        return _remote_fingerprint(source)
    path = os.path.abspath(source)
    if not os.path.isfile(path):
        raise ServiceError(_("Raster file '%(path)s' does not exist.") % {"path": path}, code="raster_open")
    return path, file_sha256(path), os.path.getsize(path)


def _remote_fingerprint(url: str) -> tuple[str, str, int]:
    import urllib.error
    import urllib.request

    parts: list[str] = [url]
    size = 0
    try:
        if url.startswith(("http://", "https://")):
            req = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - http(s) only, checked above
                size = int(resp.headers.get("Content-Length") or 0)
                parts += [resp.headers.get("ETag", ""), resp.headers.get("Last-Modified", ""), str(size)]
        else:
            # S3: GDAL signs the requests (AWS_* settings); the header describes the object
            import rasterio

            with rasterio.open(raster.source_gdal_path(url)) as ds:
                parts += [str(ds.width), str(ds.height), str(tuple(ds.transform)), str(ds.crs), str(ds.dtypes)]
    except (OSError, ValueError, urllib.error.URLError, raster.RasterError) as exc:
        raise ServiceError(
            _("Raster URL '%(url)s' cannot be read (%(reason)s).")
            % {"url": url, "reason": _remote_reason(url, getattr(exc, "reason", None) or exc)},
            code="raster_open",
        ) from None
    return url, hashlib.sha256("\n".join(parts).encode()).hexdigest(), size


def _remote_reason(url: str, exc: object) -> str:
    """GDAL's error for a remote source, naming the URL as the user gave it (not GDAL's /vsis3/ path)."""
    text = " ".join(str(exc).split())
    gdal_path = raster.source_gdal_path(url)
    return text.replace(f"'{gdal_path}'", "it").replace(gdal_path, url)[:300]


def _raster_refused(exc: raster.RasterError) -> ServiceError:
    kind = type(exc).__name__.removeprefix("Raster").removesuffix("Error").lower()
    refusals = {
        "open": _("The raster file cannot be read."),
        "crs": _("The raster file has no usable coordinate reference system."),
        "dtype": _("The raster file's data type does not fit the layer kind."),
        "nodata": _("The raster file's nodata value cannot be used for this layer kind."),
        "overlap": _("The raster does not overlap the plan's units."),
    }
    detail = without_dirs(str(exc))
    return ServiceError(" ".join(filter(None, [refusals.get(kind, ""), detail])), code=f"raster_{kind}")


def layer_register(
    *,
    plan: ZoningPlan,
    path: str,
    kind: str,
    name: str = "",
    before_date: date | None = None,
    after_date: date | None = None,
    sensor: str = "",
    source: str = "",
    threshold: float | None = None,
    min_area_m2: float | None = None,
    before_image: str = "",
    after_image: str = "",
    created_by=None,
) -> LayerRegistration:
    """Open and check a GeoTIFF and register it as a queued change layer of the plan.

    Refused (ServiceError, nothing written) when the file is unreadable, has no CRS or
    geotransform, its dtype does not fit the kind, its nodata cannot be honoured, or it
    does not overlap the plan. The same file (by SHA-256) registered again for the same
    plan returns the existing layer (`created=False`).
    """
    plan_in_force_check(plan=plan, purpose=_("A change-layer scan"))
    if kind not in LayerKind.values:
        raise ServiceError(
            _("Unknown layer kind '%(kind)s'; expected one of %(value)s.")
            % {"kind": kind, "value": ", ".join(LayerKind.values)}
        )
    if threshold is not None and kind != LayerKind.NDVI_DIFF:
        raise ServiceError(_("A threshold only applies to ndvi_diff layers."))
    if min_area_m2 is not None and min_area_m2 < 0:
        raise ServiceError(_("min_area_m2 must be zero or more, got %(min_area_m2)s.") % {"min_area_m2": min_area_m2})
    if before_date and after_date and before_date > after_date:
        raise ServiceError(
            _("before date %(before_date)s is after the after date %(after_date)s.")
            % {"before_date": before_date, "after_date": after_date}
        )
    path, checksum, size_bytes = source_fingerprint(source=path)
    existing = ChangeLayer.objects.filter(plan=plan, checksum=checksum).first()
    if existing is not None:
        if existing.kind != kind:
            raise ServiceError(
                _(
                    "This file is already registered as change layer #%(existing_id)s of kind %(existing_kind)s, not %(kind)s."
                )
                % {"existing_id": existing.pk, "existing_kind": existing.kind, "kind": kind}
            )
        return LayerRegistration(existing, created=False)
    try:
        info = raster.raster_inspect(path, kind=kind)
        bounds = plan_bounds_lonlat(plan=plan)
        if bounds is None:
            raise ServiceError(_("Plan '%(plan_code)s' has no units to scan against.") % {"plan_code": plan.code})
        raster.raster_check_overlap(info, bounds_lonlat=bounds)
    except raster.RasterError as exc:
        raise _raster_refused(exc) from None
    for image in (before_image, after_image):
        if image and not raster.source_is_remote(image) and not os.path.isfile(image):
            raise ServiceError(_("Imagery file '%(image)s' does not exist.") % {"image": image})
    layer = ChangeLayer.objects.create(
        plan=plan,
        kind=kind,
        name=(name or os.path.basename(path.split("?", 1)[0].rstrip("/")))[:200],
        path=path,
        checksum=checksum,
        size_bytes=size_bytes,
        before_date=before_date,
        after_date=after_date,
        sensor=sensor,
        source=source,
        threshold=threshold,
        min_area_m2=min_area_m2,
        before_image=before_image,
        after_image=after_image,
        info=info.to_dict(),
        created_by=created_by,
    )
    ChangeLayerEvent.objects.create(
        layer=layer, from_status="", to_status=layer.status, at=timezone.now(), comment="registered"
    )
    return LayerRegistration(layer, created=True)


def _safe_name(name: str) -> str:
    base = os.path.basename(name or "layer.tif")
    return re.sub(r"[^\w.\-]+", "_", base)[:100] or "layer.tif"


def _upload_store(*, fileobj, name: str, target_dir: Path) -> tuple[Path, bool]:
    """Copy an upload into target_dir under its checksum; (path, whether the file is new there).

    The size limit is CHANGE_LAYER_MAX_UPLOAD_MB; a refused file is removed again.
    """
    limit = settings.CHANGE_LAYER_MAX_UPLOAD_MB * 1024 * 1024
    target_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=target_dir, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = fileobj.chunks() if hasattr(fileobj, "chunks") else iter(lambda: fileobj.read(_CHUNK), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ServiceError(
                        _("Upload is larger than the limit of %(settings_CHANGE_LAYER_MAX_UPLOAD_MB)s MB.")
                        % {"settings_CHANGE_LAYER_MAX_UPLOAD_MB": settings.CHANGE_LAYER_MAX_UPLOAD_MB},
                        code="too_large",
                    )
                digest.update(chunk)
                out.write(chunk)
        checksum = digest.hexdigest()
        final = target_dir / f"{checksum[:16]}-{_safe_name(name)}"
        created_file = not final.exists()
        if created_file:
            os.replace(tmp, final)
        else:
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return final, created_file


def layer_upload(*, plan: ZoningPlan, fileobj, name: str, kind: str, **fields: Any) -> LayerRegistration:
    """Store an uploaded GeoTIFF under CHANGE_LAYER_DIR (by checksum) and register it.

    The size limit is CHANGE_LAYER_MAX_UPLOAD_MB; a refused file is removed again.
    """
    plan_in_force_check(plan=plan, purpose=_("A change-layer scan"))
    final, created_file = _upload_store(fileobj=fileobj, name=name, target_dir=Path(settings.CHANGE_LAYER_DIR))
    try:
        return layer_register(plan=plan, path=str(final), kind=kind, name=name, **fields)
    except ServiceError:
        if created_file and not ChangeLayer.objects.filter(path=str(final)).exists():
            final.unlink(missing_ok=True)
        raise


def imagery_upload(*, fileobj, name: str, field: str) -> str:
    """Store an uploaded before/after imagery GeoTIFF under CHANGE_LAYER_DIR/imagery (by checksum).

    Refused (ServiceError naming the field, file removed) unless it opens as a raster with a CRS;
    returns its path for `layer_register(before_image=..., after_image=...)`.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    final, created_file = _upload_store(
        fileobj=fileobj, name=name, target_dir=Path(settings.CHANGE_LAYER_DIR) / "imagery"
    )
    try:
        with rasterio.open(final) as ds:
            readable = ds.crs is not None and ds.count >= 1
    except RasterioIOError:
        readable = False
    if not readable:
        if created_file:
            final.unlink(missing_ok=True)
        raise ServiceError(
            _("%(field)s is not a GeoTIFF with a coordinate reference system.") % {"field": field},
            code="imagery_unreadable",
        )
    return str(final)


def layer_submit(*, values: dict[str, Any], actor) -> LayerRegistration:
    """What the upload (API and page) does with `ChangeLayerUploadSerializer`'s data, in one transaction.

    The before/after imagery stored; a URL registered where it is (a COG every worker reads
    window by window), a file stored under CHANGE_LAYER_DIR and registered; then scanned
    when `permissions.layer_upload_scans` says so (a new layer, or a failed one uploaded
    again). Returns the layer as it is after commit, and whether it is new.
    """
    from ..permissions import layer_upload_scans

    v = dict(values)
    upload = v.pop("file", None)
    url = v.pop("url", None)
    with transaction.atomic():
        v = imagery_fields_store(values=v)
        if url:
            reg = layer_register(plan=v.pop("plan"), path=url, created_by=actor, **v)
        else:
            reg = layer_upload(plan=v.pop("plan"), fileobj=upload, name=upload.name, created_by=actor, **v)
        layer = reg.layer
        if layer_upload_scans(created=reg.created, status=layer.status):
            layer = layer_scan(layer=layer)
    layer.refresh_from_db()
    return LayerRegistration(layer, created=reg.created)


def imagery_fields_store(*, values: dict[str, Any]) -> dict[str, Any]:
    """The upload input with its before/after imagery files stored and replaced by their paths (API and page)."""
    out = dict(values)
    for name in ("before_image", "after_image"):
        upload = out.pop(name, None)
        if upload:
            out[name] = imagery_upload(fileobj=upload, name=upload.name, field=name)
    return out


# ------------------------------------------------------------------ status


def _transition(layer: ChangeLayer, target: str, *, comment: str = "", **fields: Any) -> ChangeLayer:
    return transition_to(
        layer,
        target=target,
        transitions=LAYER_TRANSITIONS,
        event_model=ChangeLayerEvent,
        event_fields={"layer": layer, "comment": comment[:2000]},
        fields=fields,
        label=f"Change layer #{layer.pk}",
    )


def layer_fail(*, layer: ChangeLayer, error: str) -> bool:
    """Mark a queued or running layer failed with its error; False if it had already ended.

    The leads its windows already committed are taken back in the same transaction
    (`_run_take_back`): a failed scan leaves no leads, except those somebody acted on
    meanwhile, which the error counts.
    """
    layer.refresh_from_db()
    if layer.status not in (LayerStatus.QUEUED, LayerStatus.RUNNING):
        return False
    try:
        with transaction.atomic():
            _layer_lock(layer)  # windows still committing leads finish first, then none starts
            _transition(layer, LayerStatus.FAILED, comment=error, error=error[:4000], finished_at=timezone.now())
            _removed, kept = _run_take_back(layer.pk, layer.scan_run)
            _peers_start(layer)
            if kept:
                error = f"{error} ({kept} of its leads were acted on meanwhile and are kept)"
                ChangeLayer.objects.filter(pk=layer.pk).update(error=error[:4000])
    except ServiceError:  # someone else ended it first (another failing window)
        return False
    logger.warning("change layer %s failed: %s", layer.pk, error)
    return True


def _run_take_back(layer_id: int, scan_run: int) -> tuple[int, int]:
    """Take back the leads the windows of a scan run committed (it failed or is requeued)."""
    tally = _Tally()
    for result in ChangeLayerWindow.objects.filter(
        layer_id=layer_id, scan_run=scan_run, status=WindowStatus.DONE
    ).values_list("result", flat=True):
        tally.add((result or {}).get("leads"))
    return leads_take_back(created=tally.created, repeated=tally.repeated)


def layer_scan(*, layer: ChangeLayer) -> ChangeLayer:
    """Queue a scan of the layer (again, for a done or failed one); the task starts after commit."""
    from ..tasks import change_layer_scan

    layer.refresh_from_db()
    plan_in_force_check(plan=layer.plan, purpose=_("A change-layer scan"))
    if layer.status == LayerStatus.RUNNING:
        raise Conflict(
            _("Change layer #%(layer_id)s is already being scanned.") % {"layer_id": layer.pk}, code="conflict"
        )
    now = timezone.now()
    if layer.status in (LayerStatus.DONE, LayerStatus.FAILED):
        layer = _transition(layer, LayerStatus.QUEUED, comment="re-scan", task_sent_at=now)
    else:
        ChangeLayer.objects.filter(pk=layer.pk).update(task_sent_at=now)
        layer.task_sent_at = now
    # Sent after commit; a broker outage is logged, the layer stays queued and
    # `layers_requeue` sends it again (the task starts a queued layer only once).
    task_send_on_commit(change_layer_scan, layer.pk)
    return layer


def layers_requeue(*, older_than: timedelta | None = None, now: datetime | None = None) -> list[int]:
    """Send the scan task again for layers queued with no send attempt for `older_than`; their ids.

    The sweep for work whose task never reached a worker (broker down when it was sent, a
    message lost). Each layer is claimed by a compare-and-set on `task_sent_at`, so two
    sweeps at once send it once, and a second run within `older_than` sends nothing; a
    duplicate message would be harmless anyway (`layer_scan_start` starts a layer once).
    """
    from ..tasks import change_layer_scan

    now = now or timezone.now()
    cutoff = now - (older_than if older_than is not None else timedelta(minutes=settings.TASKS_REQUEUE_AFTER_MINUTES))
    stale = Q(task_sent_at__isnull=True) | Q(task_sent_at__lte=cutoff)
    sent = []
    for layer_id in (
        ChangeLayer.objects.filter(stale, status=LayerStatus.QUEUED).order_by("pk").values_list("pk", flat=True)
    ):
        claimed = ChangeLayer.objects.filter(stale, pk=layer_id, status=LayerStatus.QUEUED).update(task_sent_at=now)
        if not claimed:  # another sweep took it, or a worker started it meanwhile
            continue
        logger.info("change layer %s still queued since before %s: scan task sent again", layer_id, cutoff)
        if task_send(change_layer_scan, layer_id) is not None:
            sent.append(layer_id)
    return sent


_START_LOCK_KEY = 0x5CA7_57A7


def _peers_start(layer: ChangeLayer) -> None:
    """After a layer ended (in its transaction): send the scan task of queued layers that waited for it."""
    from ..tasks import change_layer_scan

    waiting = list(layer.peers().filter(status=LayerStatus.QUEUED).order_by("pk").values_list("pk", flat=True))
    if waiting:
        ChangeLayer.objects.filter(pk__in=waiting).update(task_sent_at=timezone.now())
    for pk in waiting:  # each start re-checks; a broker outage leaves them to layers_requeue
        task_send_on_commit(change_layer_scan, pk)


def layer_scan_start(*, layer_id: int) -> tuple[ChangeLayer, int, list[int]] | None:
    """queued → running: re-check the file, plan the windows (one row each); None if not startable."""
    layer = ChangeLayer.objects.select_related("plan").filter(pk=layer_id).first()
    if layer is None or layer.status != LayerStatus.QUEUED:
        return None
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:  # one start at a time: the check below stays true
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [_START_LOCK_KEY])
            ahead = layer.running_peer()
            if ahead is not None:
                # One running layer per plan and per file (ChangeLayer.running_peer): this
                # one starts when that one ends (`_peers_start`).
                logger.info("change layer %s waits for change layer %s (same plan or file)", layer.pk, ahead)
                return None
            layer = _transition(
                layer,
                LayerStatus.RUNNING,
                scan_run=F("scan_run") + 1,
                started_at=timezone.now(),
                finished_at=None,
                error="",
                windows_total=0,
                windows_done=0,
                heartbeat_at=timezone.now(),
                patches_edge=0,
                merge_seconds=None,
            )
    except ServiceError:  # a second start of the same queued layer: the first one runs it
        return None
    try:
        if not raster.source_is_remote(layer.path) and not os.path.isfile(layer.path):
            raise ServiceError(_("Raster file '%(layer_path)s' no longer exists.") % {"layer_path": layer.path})
        if source_fingerprint(source=layer.path)[1] != layer.checksum:
            raise ServiceError(
                _("Raster file '%(layer_path)s' changed since it was registered; register it again.")
                % {"layer_path": layer.path}
            )
        info = raster.raster_inspect(layer.path, kind=layer.kind)
        rules = _scan_rules_for(layer)
        windows = raster.windows_plan(info, window_size=settings.SCAN_WINDOW_SIZE)
        with transaction.atomic():
            ChangeLayerWindow.objects.filter(layer=layer).delete()
            ChangeLayerWindow.objects.bulk_create(
                ChangeLayerWindow(
                    layer=layer,
                    scan_run=layer.scan_run,
                    index=i,
                    row_off=w.row_off,
                    col_off=w.col_off,
                    height=w.height,
                    width=w.width,
                )
                for i, w in enumerate(windows)
            )
            ChangeLayer.objects.filter(pk=layer.pk).update(
                info=info.to_dict(), rules=rules.to_dict(), windows_total=len(windows)
            )
    except (raster.RasterError, ServiceError, OSError) as exc:
        layer_fail(layer=layer, error=without_dirs(getattr(exc, "message", None) or str(exc)))
        return None
    layer.refresh_from_db()
    return layer, layer.scan_run, list(range(len(windows)))


def _units_for_window(
    layer: ChangeLayer, info: raster.RasterInfo, rules: raster.ScanRules, window: raster.WindowSpec
) -> tuple[list[raster.UnitShape], dict[int, ControlUnit], tuple[float, float, float, float]]:
    """The units a window is scanned against (shapes in the raster CRS), their rows (code, name,
    division) and the window's box in STORAGE_SRID (a little larger: it holds every patch inside)."""
    x0, y0, x1, y1 = bounds_to_storage(raster.window_bounds(info, window), info.crs_wkt)
    pad_x, pad_y = (x1 - x0) * 0.01, (y1 - y0) * 0.01
    bbox = (x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y)
    unit_classes = [uc for uc, cs in rules.classes_by_unit_class.items() if set(cs) & set(rules.labelled_classes)]
    if not unit_classes:
        return [], {}, bbox
    units = list(units_in_bbox(plan=layer.plan, bbox=bbox, unit_classes=unit_classes).order_by("id"))
    crs_key = hashlib.sha1(info.crs_wkt.encode()).hexdigest()
    missing = [u.pk for u in units if (u.pk, crs_key) not in _UNIT_SHAPES]
    if len(_UNIT_SHAPES) + len(missing) > _UNIT_SHAPES_MAX:
        _UNIT_SHAPES.clear()
        missing = [u.pk for u in units]
    if missing:  # a unit's outline is read and reprojected once per worker process and CRS
        for pk, unit_class, geom in ControlUnit.objects.filter(pk__in=missing).values_list("pk", "unit_class", "geom"):
            _UNIT_SHAPES[(pk, crs_key)] = raster.UnitShape(pk, unit_class, storage_to_crs(geom, info.crs_wkt))
    return [_UNIT_SHAPES[(u.pk, crs_key)] for u in units], {u.pk: u for u in units}, bbox


# Units reprojected into a raster's CRS (and converted to shapely, once), kept by the worker
# process between windows and layers, by unit id: only a plan in force is scanned, and its
# units never change (database triggers); a revision's units are new rows.
_UNIT_SHAPES: dict[tuple[int, str], raster.UnitShape] = {}
_UNIT_SHAPES_MAX = 20_000


def _window_label(row: ChangeLayerWindow) -> str:
    return (
        f"window {row.index} (rows {row.row_off}-{row.row_off + row.height}, "
        f"cols {row.col_off}-{row.col_off + row.width})"
    )


def _heartbeat(layer_id: int, scan_run: int) -> None:
    ChangeLayer.objects.filter(pk=layer_id, scan_run=scan_run, status=LayerStatus.RUNNING).update(
        heartbeat_at=timezone.now()
    )


# Leads raised per set-based statement batch (a window's, or the merge's edge patches).
LEAD_BATCH = 1000


@dataclass
class _Found:
    """A qualifying (patch, unit) pair, finished by a window or by the merge; geometry as hex EWKB."""

    patch_key: str
    change_class: int
    bbox: tuple[int, int, int, int]
    patch_pixels: int
    patch_units: int
    unit_id: int
    pixels: int
    area_m2: float
    geom: str


@dataclass
class _Tally:
    """What a window (or the merge) raised: counts, and what a run that fails must take back."""

    created: list[int] = field(default_factory=list)
    repeated: list[tuple[int, str]] = field(default_factory=list)  # (lead id, source key)
    unchanged: int = 0
    patches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "repeated": [list(r) for r in self.repeated],
            "unchanged": self.unchanged,
            "patches": self.patches,
        }

    def add(self, d: dict[str, Any] | None) -> None:
        if d:
            self.created += d["created"]
            self.repeated += [(int(lead), str(key)) for lead, key in d["repeated"]]
            self.unchanged += int(d["unchanged"])
            self.patches += int(d["patches"])


def _found_finished(finished: list[raster.Patch], info: raster.RasterInfo) -> list[_Found]:
    """The (patch, unit) pairs a window finished, with their geometry in STORAGE_SRID.

    All geometries are reprojected, repaired and written in one vectorised pass (shapely).
    """
    pairs = [(p, uid, pixels, area) for p in finished for uid, (pixels, area) in p.units.items()]
    wkbs = shapes_to_storage_wkb([p.geometries[uid] for p, uid, _px, _a in pairs], info.crs_wkt)
    return [
        _Found(p.patch_key, p.change_class, p.bbox, p.pixels, len(p.units), uid, int(pixels), float(area), wkb)
        for (p, uid, pixels, area), wkb in zip(pairs, wkbs, strict=True)
    ]


def _leads_raise(
    layer: ChangeLayer,
    rules: raster.ScanRules,
    found: list[_Found],
    units: dict[int, ControlUnit],
    *,
    valid_fraction: float,
    within: tuple[float, float, float, float] | None = None,
    exclusive: bool = True,
) -> _Tally:
    """Raise the leads of qualifying pairs set-wise, a batch at a time (inside the caller's transaction).

    `within` and `exclusive` as in `leads_raise_bulk`: a window passes its box and, being
    alone with its patches (one running layer per plan and per file), no lock.
    """
    tally = _Tally(patches=len({f.patch_key for f in found}))
    found = sorted(found, key=lambda f: (f.patch_key, f.unit_id))
    legend = scan_rules_get(plan=layer.plan).legend if found else {}
    for b0 in range(0, len(found), LEAD_BATCH):
        specs = _specs(
            layer, rules, found[b0 : b0 + LEAD_BATCH], units, legend, valid_fraction=valid_fraction, within=within
        )
        results = leads_raise_bulk(specs=specs, match_open_overlapping=True, within=within, exclusive=exclusive)
        for spec, result in zip(specs, results, strict=True):
            if result.created:
                tally.created.append(result.lead_id)
            elif result.detection_added:
                tally.repeated.append((result.lead_id, spec.source_key))
            else:
                tally.unchanged += 1
    return tally


def _layer_share_lock(layer_id: int, scan_run: int) -> bool:
    """In a transaction: True if the layer still runs this scan run, held so (FOR KEY SHARE) until commit.

    Windows share the lock and it lets the other windows' progress updates through;
    `_layer_lock` (FOR UPDATE, before a layer fails or is requeued) waits for them, so
    the take-back sees every lead a window committed, and no window writes after it.
    """
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""  # SpatiaLite: one writer at a time
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT 1 FROM {ChangeLayer._meta.db_table} WHERE id = %s AND status = %s AND scan_run = %s{lock}",
            [layer_id, LayerStatus.RUNNING, scan_run],
        )
        return cur.fetchone() is not None


def _layer_lock(layer: ChangeLayer) -> None:
    """In a transaction: wait for the windows still committing leads, and keep new ones out."""
    list(ChangeLayer.objects.select_for_update().filter(pk=layer.pk).values_list("pk", flat=True))


def layer_window_scan(*, layer_id: int, scan_run: int, index: int) -> bool:
    """Scan one window, raise the leads of the patches wholly inside it, store the rest for the merge.

    The window's leads and its row (done, edge parts, what it raised) commit together,
    so a second run (a redelivery) of a done window is a no-op and a killed one left
    nothing. The leads are visible from then on; if the scan run then fails or is
    requeued, `layer_fail` takes back those nobody has touched (`leads_take_back`).
    Any error fails the whole layer with the window named; False when nothing was done.
    """
    layer = ChangeLayer.objects.select_related("plan").filter(pk=layer_id).first()
    if layer is None or layer.status != LayerStatus.RUNNING or layer.scan_run != scan_run:
        return False
    row = ChangeLayerWindow.objects.filter(layer=layer, scan_run=scan_run, index=index).first()
    if row is None or row.status == WindowStatus.DONE:
        return False
    now = timezone.now()
    with transaction.atomic():
        ChangeLayerWindow.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1, started_at=now)
        _heartbeat(layer.pk, scan_run)
    window = raster.WindowSpec(row.row_off, row.col_off, row.height, row.width)
    try:
        info = raster.RasterInfo.from_dict(layer.info)
        rules = raster.ScanRules.from_dict(layer.rules)
        shapes, units, box = _units_for_window(layer, info, rules, window)
        edge_only, finished = raster.window_finish(
            raster.source_gdal_path(layer.path), window=window, rules=rules, units=shapes, info=info, as_shapely=True
        )
        found = _found_finished(finished, info)
        del finished
        with transaction.atomic():
            claimed = ChangeLayerWindow.objects.filter(pk=row.pk, status=WindowStatus.PENDING).update(
                status=WindowStatus.DONE, finished_at=timezone.now()
            )
            if not claimed or not _layer_share_lock(layer.pk, scan_run):
                transaction.set_rollback(True)  # done by another delivery, or the run ended meanwhile
                return False
            tally = _leads_raise(
                layer,
                rules,
                found,
                units,
                valid_fraction=edge_only.valid_pixels / edge_only.total_pixels if edge_only.total_pixels else 0.0,
                within=box,
                exclusive=False,
            )
            result = edge_only.to_dict()
            result["leads"] = tally.to_dict()
            ChangeLayerWindow.objects.filter(pk=row.pk).update(result=result)
            # last, so the layer row is held only for the commit (windows_done counts committed windows)
            ChangeLayer.objects.filter(pk=layer.pk, scan_run=scan_run).update(
                windows_done=F("windows_done") + 1, heartbeat_at=timezone.now()
            )
    except SoftTimeLimitExceeded:
        layer_fail(
            layer=layer,
            error=f"{_window_label(row)}: took longer than the time limit of {settings.SCAN_WINDOW_SOFT_SECONDS} s",
        )
        return False
    except Exception as exc:  # noqa: BLE001 - any failure of a window fails the layer, named
        layer_fail(layer=layer, error=f"{_window_label(row)}: {getattr(exc, 'message', None) or exc}")
        return False
    return True


# ------------------------------------------------------------------- merge


def _class_name(legend: dict[str, str], change_class: int) -> str:
    return legend.get(str(change_class)) or raster.CHANGE_CLASSES.get(change_class, str(change_class))


def _detected_at(layer: ChangeLayer) -> datetime:
    if layer.after_date:
        return timezone.make_aware(datetime.combine(layer.after_date, time(12, 0)))
    return timezone.now()


def _found_edges(
    layer: ChangeLayer, info: raster.RasterInfo, rules: raster.ScanRules, rows
) -> tuple[list[_Found], raster.MergeResult]:
    """The patches cut by window edges, joined across the windows' results and vectorised here."""
    merged = raster.patches_merge([raster.WindowResult.from_dict(r.result) for r in rows], info=info, rules=rules)
    if not merged.complete:
        raise ServiceError(_("The window results do not cover the whole raster."), code="raster_incomplete")
    # pairs whose parts all came vectorised from their windows (dissolved by the merge);
    # any other pair is read from the file again
    pairs = [(p, uid) for p in merged.patches for uid in p.units]
    missing = sorted({uid for p, uid in pairs if uid not in p.geometries})
    shapes = {
        u.pk: raster.UnitShape(u.pk, u.unit_class, storage_to_crs(u.geom, info.crs_wkt))
        for u in ControlUnit.objects.filter(pk__in=missing).only("id", "unit_class", "geom")
    }
    jobs = [(p, shapes[uid]) for p, uid in pairs if uid not in p.geometries]
    reread = {
        (s.patch_key, s.unit_id): s
        for s in raster.patches_vectorise(raster.source_gdal_path(layer.path), jobs, rules=rules, info=info)
    }
    for s in reread.values():
        if not s.pixels:
            raise ServiceError(
                _("Patch %(patch)s in unit #%(unit)s vanished on re-reading the file.")
                % {"patch": s.patch_key, "unit": s.unit_id}
            )
    geometries = [p.geometries[uid] if uid in p.geometries else reread[(p.patch_key, uid)].geometry for p, uid in pairs]
    found = []
    for (p, uid), wkb in zip(pairs, shapes_to_storage_wkb(geometries, info.crs_wkt), strict=True):
        pixels, area = p.units[uid]
        found.append(
            _Found(p.patch_key, p.change_class, p.bbox, p.pixels, len(p.units), uid, int(pixels), float(area), wkb)
        )
    return found, merged


def _specs(
    layer: ChangeLayer,
    rules: raster.ScanRules,
    batch: list[_Found],
    units: dict[int, ControlUnit],
    legend: dict[str, str],
    *,
    valid_fraction: float,
    within: tuple[float, float, float, float] | None = None,
) -> list[LeadRaiseSpec]:
    keys = {f"rs:{layer.checksum}:{f.patch_key}:{units[f.unit_id].code}": f for f in batch}
    recorded = detections_recorded(source_keys=list(keys))
    todo = [k for k in keys if k not in recorded]
    # the nearest enforcement target of every new observation, in one query
    max_target_m = settings.LEAD_TARGET_MAX_DISTANCE_M
    nearest = dict(
        zip(
            todo,
            targets_nearest(geoms=[keys[k].geom for k in todo], max_distance_m=max_target_m, within=within),
            strict=True,
        )
    )
    detected_at = _detected_at(layer)
    specs = []
    for key, f in keys.items():
        unit = units[f.unit_id]
        class_name = _class_name(legend, f.change_class)
        unit_label = UnitClass(unit.unit_class).label
        near = nearest.get(key)
        evidence = {
            "layer_id": layer.pk,
            "layer_name": layer.name,
            "layer_checksum": layer.checksum,
            "kind": layer.kind,
            "sensor": layer.sensor,
            "before_date": layer.before_date.isoformat() if layer.before_date else None,
            "after_date": layer.after_date.isoformat() if layer.after_date else None,
            "patch_key": f.patch_key,
            "patch_bbox": list(f.bbox),
            "change_class": f.change_class,
            "change_class_name": class_name,
            "unit_code": unit.code,
            "unit_class": unit.unit_class,
            "pixels_in_unit": f.pixels,
            "area_m2": round(f.area_m2, 1),
            "patch_pixels_total": f.patch_pixels,
            "patch_units": f.patch_units,
            "min_area_m2": rules.min_area_m2,
            "threshold": rules.threshold if layer.kind == LayerKind.NDVI_DIFF else None,
            # of the window the patch lies in (the whole raster's for a patch across windows)
            "valid_fraction": round(valid_fraction, 4),
            "nearest_target": (
                {"id": near[0], "name": near[1], "credit_code": near[2], "distance_m": round(near[3], 1)}
                if near
                else None
            ),
            "nearest_target_max_m": max_target_m,
        }
        specs.append(
            LeadRaiseSpec(
                source=LeadSource.REMOTE_SENSING,
                source_key=key,
                plan=layer.plan,
                unit=unit,
                geom=f.geom,
                title=f"{unit.name}{class_name}图斑（{f.area_m2:,.0f} 平方米）"[:200],
                reason=(
                    f"遥感变化图层 #{layer.pk}（{layer.name}）检出{class_name}图斑，位于{unit_label} {unit.code}，"
                    f"单元内面积 {f.area_m2:,.0f} 平方米，不小于 {rules.min_area_m2:,.0f} 平方米；"
                    f"{unit_label}内的{class_name}须现场核查。"
                ),
                change_class=f.change_class,
                area_m2=round(f.area_m2, 1),
                layer_ref=f"change_layer:{layer.pk}",
                evidence=evidence,
                target_id=near[0] if near else None,
                detected_at=detected_at,
                evidence_status=EvidenceStatus.PENDING,
            )
        )
    return specs


def layer_merge(*, layer_id: int, scan_run: int) -> MergeOutcome | None:
    """Join the patches cut by window edges, raise their leads, mark the layer done.

    The windows already raised the leads of the patches wholly inside them; here only
    the edge patches are joined, vectorised and raised (`patches_edge`, `merge_seconds`),
    and the windows' counts summed. Safe to run twice: the status is compare-and-set and
    leads are upserted on (file checksum, patch, unit). Any error fails the layer, which
    takes back the leads of the whole run (`layer_fail`). Evidence chips are rendered
    afterwards by their own tasks.
    """
    import time as _time

    layer = ChangeLayer.objects.select_related("plan").filter(pk=layer_id).first()
    if layer is None or layer.status != LayerStatus.RUNNING or layer.scan_run != scan_run:
        return None
    _heartbeat(layer.pk, scan_run)
    t0 = _time.monotonic()
    try:
        rows = list(ChangeLayerWindow.objects.filter(layer=layer, scan_run=scan_run).order_by("index"))
        missing = [r.index for r in rows if r.status != WindowStatus.DONE]
        if missing or len(rows) != layer.windows_total:
            raise ServiceError(
                f"{len(missing)} of {layer.windows_total} windows have no result (first: {missing[:5]})."
            )
        info = raster.RasterInfo.from_dict(layer.info)
        rules = raster.ScanRules.from_dict(layer.rules)
        tally = _Tally()
        for r in rows:
            tally.add((r.result or {}).get("leads"))
        windows_created = len(tally.created)
        found, merged = _found_edges(layer, info, rules, rows)
        del rows
        units = {
            u.pk: u
            for u in ControlUnit.objects.filter(pk__in={f.unit_id for f in found}).only(
                "id", "plan_id", "unit_class", "code", "name", "division_id"
            )
        }
        with transaction.atomic():
            edge = _leads_raise(layer, rules, found, units, valid_fraction=merged.valid_fraction)
            tally.add(edge.to_dict())
            outcome = MergeOutcome(
                created=len(tally.created),
                repeated=len(tally.repeated),
                unchanged=tally.unchanged,
                new_lead_ids=sorted(tally.created),
            )
            _transition(
                layer,
                LayerStatus.DONE,
                comment=f"{outcome.created} new, {outcome.repeated} repeat, {outcome.unchanged} already recorded",
                finished_at=timezone.now(),
                valid_fraction=merged.valid_fraction,
                changed_pixels=merged.changed_pixels,
                patches_total=merged.patches_total,
                patches_qualifying=tally.patches,
                patches_edge=len(merged.patches),
                merge_seconds=round(_time.monotonic() - t0, 3),
                leads_created=outcome.created,
                leads_repeated=outcome.repeated,
                leads_unchanged=outcome.unchanged,
                chips_sent_at=timezone.now(),
            )
            # the chips of the whole run once it is done: queued earlier, they would hold the
            # remaining windows and this merge back behind them on the same workers
            new_ids = list(outcome.new_lead_ids)
            transaction.on_commit(lambda: lead_chips_queue(lead_ids=new_ids))
            _peers_start(layer)
    except Exception as exc:  # noqa: BLE001 - the layer records why; the run's leads are taken back
        layer_fail(layer=layer, error=f"merge: {getattr(exc, 'message', None) or exc}")
        return None
    logger.info(
        "change layer %s: %s leads raised by the windows, %s by the merge of %s edge patches",
        layer.pk,
        windows_created,
        len(edge.created),
        len(merged.patches),
    )
    return outcome


# ------------------------------------------------------------------- chips

CHIP_BATCH = 50  # leads per chip task


def lead_chips_queue(*, lead_ids: list[int]) -> int:
    """Queue the chip tasks of newly raised leads (after commit); returns the number of tasks."""
    from ..tasks import change_layer_chips

    n = 0
    for i in range(0, len(lead_ids), CHIP_BATCH):
        # after the leads' commit: a broker outage is logged, not raised (the leads stand;
        # their evidence_status stays `pending`)
        task_send(change_layer_chips, lead_ids[i : i + CHIP_BATCH])
        n += 1
    return n


def layers_chips_requeue(*, older_than: timedelta | None = None, now: datetime | None = None) -> list[int]:
    """Send the chip tasks again for done layers whose new leads still wait for their chips; the layers' ids.

    The sweep for chip tasks that never reached a worker (broker down when the layer
    finished, a message lost): a layer whose chips were sent `older_than` ago
    (`SCAN_CHIPS_REQUEUE_MINUTES`) and that still has leads with `evidence_status`
    pending is claimed by a compare-and-set on `chips_sent_at` (two sweeps send once) and
    its pending leads are queued again. Rendering is compare-and-set too: a chip task that
    was only slow attaches nothing twice.
    """
    from supervision.cases.models import Lead

    now = now or timezone.now()
    cutoff = now - (older_than if older_than is not None else timedelta(minutes=settings.SCAN_CHIPS_REQUEUE_MINUTES))
    stale = Q(chips_sent_at__lte=cutoff) | Q(chips_sent_at__isnull=True, finished_at__lte=cutoff)
    pending: dict[int, list[int]] = {}  # layer id → its leads still waiting (a partial index holds them)
    for lead_id, layer_ref in (
        Lead.objects.filter(evidence_status=EvidenceStatus.PENDING, layer_ref__startswith="change_layer:")
        .order_by("pk")
        .values_list("pk", "layer_ref")
    ):
        pending.setdefault(int(layer_ref.split(":", 1)[1]), []).append(lead_id)
    sent = []
    for layer_id in (
        ChangeLayer.objects.filter(stale, pk__in=list(pending), status=LayerStatus.DONE)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        if not ChangeLayer.objects.filter(stale, pk=layer_id, status=LayerStatus.DONE).update(chips_sent_at=now):
            continue  # another sweep took it meanwhile
        logger.info("change layer %s: chips of %s leads still pending, sent again", layer_id, len(pending[layer_id]))
        lead_chips_queue(lead_ids=pending[layer_id])
        sent.append(layer_id)
    return sent


def _imagery_chips(
    layer: ChangeLayer, info: raster.RasterInfo, patch: raster.Patch, stem: str, *, lead, seen: dict
) -> list[EvidenceFile]:
    """Before/after imagery around the patch, with the unit's outline, the patch and a scale bar drawn on.

    `seen` keeps what a chip task reads once for all its leads: each image's CRS, each
    unit's outline in it.
    """
    files = []
    r0, c0, r1, c1 = patch.bbox
    bounds = raster.bbox_bounds(info, patch.bbox, margin=max(r1 - r0, c1 - c0) // 2 + 2)
    for label, path, caption in (
        ("before", layer.before_image, "前时相影像"),
        ("after", layer.after_image, "后时相影像"),
    ):
        if not path:
            continue
        image_crs = seen.get(("crs", path))
        if image_crs is None:
            import rasterio

            with rasterio.open(raster.source_gdal_path(path)) as ds:
                image_crs = seen[("crs", path)] = ds.crs.to_wkt()
        storage = bounds_to_storage(bounds, info.crs_wkt)
        image_bounds = bounds_storage_to_crs(storage, image_crs)
        unit_geometry = None
        if lead.unit_id:
            key = ("unit", lead.unit_id, image_crs)
            unit_geometry = seen.get(key) or seen.setdefault(key, storage_to_crs(lead.unit.geom, image_crs))
        png = image_chip_png(
            raster.source_gdal_path(path),
            image_bounds,
            unit_geometry=unit_geometry,
            patch_geometry=storage_to_crs(lead.geom, image_crs),
        )
        files.append(EvidenceFile(f"{stem}-{label}.png", png, EvidenceKind.CHIP, "image/png", caption))
    return files


def lead_chips_render(*, lead_ids: list[int]) -> dict[str, int]:
    """Render and attach the evidence chips of scan leads still pending; safe to run twice.

    A chip that cannot be drawn marks its lead's evidence `failed` (the lead itself stands).
    """
    from supervision.cases.models import Lead

    done = failed = 0
    leads = list(
        Lead.objects.filter(pk__in=lead_ids, evidence_status=EvidenceStatus.PENDING)
        .select_related("unit")
        .order_by("pk")
    )
    layers: dict[int, ChangeLayer] = {}
    shapes: dict[tuple[int, int], raster.UnitShape] = {}
    seen: dict = {}  # images' CRS and units' outlines in them, read once per task
    for lead in leads:
        ev = lead.evidence
        try:
            layer = layers.get(ev["layer_id"]) or layers.setdefault(
                ev["layer_id"], ChangeLayer.objects.get(pk=ev["layer_id"])
            )
            info = raster.RasterInfo.from_dict(layer.info)
            rules = raster.ScanRules.from_dict(layer.rules)
            key: tuple[int, int] = (layer.pk, lead.unit_id)  # type: ignore[assignment]
            shape = shapes.get(key) or shapes.setdefault(
                key,
                raster.UnitShape(lead.unit_id, lead.unit.unit_class, storage_to_crs(lead.unit.geom, info.crs_wkt)),  # type: ignore[arg-type, union-attr]
            )
            sr, sc = (int(v) for v in ev["patch_key"].split("-")[1:3])
            patch = raster.Patch(
                patch_key=ev["patch_key"],
                change_class=int(ev["change_class"]),
                bbox=tuple(ev["patch_bbox"]),
                seed=(sr, sc),
                pixels=int(ev["patch_pixels_total"]),
                units={},
                parts=(),
            )
            stem = f"layer{layer.pk}-{patch.patch_key}-{ev['unit_code']}"
            files = [
                EvidenceFile(
                    f"{stem}.png",
                    change_chip_png(
                        raster.source_gdal_path(layer.path),
                        patch,
                        unit=shape,
                        info=info,
                        threshold=rules.threshold,
                        patch_geometry=storage_to_crs(lead.geom, info.crs_wkt),
                    ),
                    EvidenceKind.CHIP,
                    "image/png",
                    "变化掩膜：管控单元边界（金色）、图斑（品红）、比例尺",
                )
            ]
            files += _imagery_chips(layer, info, patch, stem, lead=lead, seen=seen)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - the lead stands; its evidence says why it has no picture
            if lead_evidence_complete(lead_id=lead.pk, files=[], error=str(exc)):
                failed += 1
            continue
        if lead_evidence_complete(lead_id=lead.pk, files=files):
            done += 1
    return {"ready": done, "failed": failed}


# ------------------------------------------------------------- never stuck


def layer_window_failed(*, layer_id: int, scan_run: int, error: str) -> bool:
    """The chord's error callback: a window task died (time limit, lost worker); fail the layer, naming it."""
    layer = ChangeLayer.objects.filter(pk=layer_id, scan_run=scan_run).first()
    if layer is None:
        return False
    m = re.search(r"window(\d+)", error)
    row = None
    if m:
        row = ChangeLayerWindow.objects.filter(layer=layer, scan_run=scan_run, index=int(m.group(1))).first()
    if row is None:
        row = ChangeLayerWindow.objects.filter(layer=layer, scan_run=scan_run, status=WindowStatus.PENDING).first()
    where = _window_label(row) if row is not None else "a window"
    return layer_fail(layer=layer, error=f"{where}: the task failed ({error[:500]})")


def layers_sweep(*, stall_seconds: float | None = None, max_requeues: int | None = None) -> list[tuple[int, str]]:
    """Requeue, or fail, running layers with no progress for `SCAN_STALL_SECONDS`; safe to run twice.

    A layer's heartbeat moves whenever a window starts or finishes, the merge begins and
    when it starts writing leads.
    A stalled layer is queued again (a new scan run; late tasks of the old run see the
    run change and do nothing) up to `SCAN_MAX_REQUEUES` times, then failed with why.
    Returns (layer id, "requeued" | "failed") for each layer acted on.
    """
    from ..tasks import change_layer_scan

    stall = settings.SCAN_STALL_SECONDS if stall_seconds is None else stall_seconds
    limit = settings.SCAN_MAX_REQUEUES if max_requeues is None else max_requeues
    cutoff = timezone.now() - timedelta(seconds=stall)
    acted: list[tuple[int, str]] = []
    stalled = ChangeLayer.objects.filter(status=LayerStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    # Workers making progress elsewhere may simply not have reached this layer's windows
    # yet (a busy queue is not a stall): then only a window that STARTED and never
    # finished (its worker died; the window's own time limit is far below) counts.
    busy = ChangeLayer.objects.filter(status=LayerStatus.RUNNING, heartbeat_at__gte=cutoff).exists()
    for layer in stalled.order_by("pk"):
        windows = ChangeLayerWindow.objects.filter(
            layer=layer, scan_run=layer.scan_run, status=WindowStatus.PENDING
        ).order_by("index")
        if busy and not windows.filter(attempts__gt=0, started_at__lt=cutoff).exists() and windows.exists():
            continue
        pending = list(windows.values_list("index", flat=True)[:5])
        where = (
            f"windows {', '.join(map(str, pending))} of {layer.windows_total} unfinished"
            if pending
            else "the merge did not finish"
        )
        why = f"stalled: no progress for {stall:.0f} s ({where})"
        if layer.requeues < limit:
            try:
                with transaction.atomic():
                    _layer_lock(layer)
                    _transition(
                        layer,
                        LayerStatus.QUEUED,
                        comment=f"{why}; requeued ({layer.requeues + 1} of {limit})",
                        requeues=F("requeues") + 1,
                        error=why,
                        task_sent_at=timezone.now(),
                    )
                    # the next run raises them again: this one's leads are taken back
                    _run_take_back(layer.pk, layer.scan_run)
                    _peers_start(layer)
                    # As layer_scan: a broker outage leaves it queued for layers_requeue.
                    task_send_on_commit(change_layer_scan, layer.pk)
            except ServiceError:  # it moved on meanwhile (finished, or another sweep)
                continue
            acted.append((layer.pk, "requeued"))
        elif layer_fail(layer=layer, error=f"{why}; gave up after {layer.requeues} requeues"):
            acted.append((layer.pk, "failed"))
    return acted


def layer_wait(*, layer: ChangeLayer, timeout_s: float, poll_s: float = 1.0) -> ChangeLayer:
    """Poll until the layer is done or failed (the CLI's --wait with a real worker)."""
    import time as _time

    deadline = _time.monotonic() + timeout_s
    while True:
        layer.refresh_from_db()
        if layer.status in (LayerStatus.DONE, LayerStatus.FAILED):
            return layer
        if _time.monotonic() > deadline:
            raise ServiceError(
                _(
                    "Change layer #%(layer_id)s is still %(layer_status)s (%(layer_progress)s %%) after %(timeout_s).0f s."
                )
                % {
                    "layer_id": layer.pk,
                    "layer_status": layer.status,
                    "layer_progress": layer.progress,
                    "timeout_s": timeout_s,
                },
                code="timeout",
            )
        _time.sleep(poll_s)


def layer_summary(layer: ChangeLayer) -> str:
    """One line for the CLI and logs."""
    if layer.status == LayerStatus.FAILED:
        return f"change layer #{layer.pk} {layer.name}: failed: {layer.error}"
    if layer.status != LayerStatus.DONE:
        return f"change layer #{layer.pk} {layer.name}: {layer.status} ({layer.progress} %)"
    vf = f"{layer.valid_fraction * 100:.1f}" if layer.valid_fraction is not None else "?"
    return (
        f"change layer #{layer.pk} {layer.name}: done, {layer.windows_total} windows, valid {vf} %, "
        f"{layer.patches_qualifying} qualifying patches; leads: {layer.leads_created} new, "
        f"{layer.leads_repeated} repeat detections, {layer.leads_unchanged} already recorded"
    )


def plan_for_code(*, code: str) -> ZoningPlan:
    plan = ZoningPlan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound(_("No zoning plan with code '%(code)s'.") % {"code": code})
    return plan
