"""Change layers: register a GeoTIFF, scan it window by window, raise leads in one transaction.

One scan, end to end (ARCHITECTURE.md): `layer_register` validates the file and stores
a `ChangeLayer` (queued); `layer_scan` queues the scan; the task calls
`layer_scan_start` (windows planned, one row each), a group of `layer_window_scan`
tasks stores each window's result on its row, and the chord callback `layer_merge`
joins patches cut by window edges, vectorises the qualifying (patch, unit) pairs and
raises every lead in ONE transaction, so a failure leaves none.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.cases.choices import EvidenceKind, LeadSource
from supervision.cases.services.leads import EvidenceFile, lead_raise
from supervision.errors import Conflict, NotFound, ServiceError, without_dirs
from supervision.workflow import transition_to
from supervision.zoning.choices import UnitClass
from supervision.zoning.models import ControlUnit, ZoningPlan

from .. import raster
from ..choices import LAYER_TRANSITIONS, LayerKind, LayerStatus, WindowStatus
from ..geo import bounds_storage_to_crs, bounds_to_storage, crs_to_storage, storage_to_crs
from ..models import ChangeLayer, ChangeLayerEvent, ChangeLayerWindow, ScanRuleSet
from ..raster_chip import change_chip_png, image_chip_png
from ..selectors import plan_bounds_lonlat, target_nearest, units_in_bbox

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
    lead_ids: list[int] = field(default_factory=list)


# ------------------------------------------------------------------ rules


def scan_rules_get(*, plan: ZoningPlan) -> ScanRuleSet:
    """The plan's rule set, created with the defaults the first time it is needed."""
    rules, __ = ScanRuleSet.objects.get_or_create(plan=plan)
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
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise ServiceError(_("Raster file '%(path)s' does not exist.") % {"path": path}, code="raster_open")
    checksum = file_sha256(path)
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
        if image and not os.path.isfile(image):
            raise ServiceError(_("Imagery file '%(image)s' does not exist.") % {"image": image})
    layer = ChangeLayer.objects.create(
        plan=plan,
        kind=kind,
        name=(name or os.path.basename(path))[:200],
        path=path,
        checksum=checksum,
        size_bytes=os.path.getsize(path),
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


def layer_upload(*, plan: ZoningPlan, fileobj, name: str, kind: str, **fields: Any) -> LayerRegistration:
    """Store an uploaded GeoTIFF under CHANGE_LAYER_DIR (by checksum) and register it.

    The size limit is CHANGE_LAYER_MAX_UPLOAD_MB; a refused file is removed again.
    """
    limit = settings.CHANGE_LAYER_MAX_UPLOAD_MB * 1024 * 1024
    target_dir = Path(settings.CHANGE_LAYER_DIR)
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
    try:
        return layer_register(plan=plan, path=str(final), kind=kind, name=name, **fields)
    except ServiceError:
        if created_file and not ChangeLayer.objects.filter(path=str(final)).exists():
            final.unlink(missing_ok=True)
        raise


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
    """Mark a queued or running layer failed with its error; False if it had already ended."""
    layer.refresh_from_db()
    if layer.status not in (LayerStatus.QUEUED, LayerStatus.RUNNING):
        return False
    try:
        _transition(layer, LayerStatus.FAILED, comment=error, error=error[:4000], finished_at=timezone.now())
    except ServiceError:  # someone else ended it first (another failing window)
        return False
    logger.warning("change layer %s failed: %s", layer.pk, error)
    return True


def layer_scan(*, layer: ChangeLayer) -> ChangeLayer:
    """Queue a scan of the layer (again, for a done or failed one); the task starts after commit."""
    from ..tasks import change_layer_scan

    layer.refresh_from_db()
    if layer.status == LayerStatus.RUNNING:
        raise Conflict(
            _("Change layer #%(layer_id)s is already being scanned.") % {"layer_id": layer.pk}, code="conflict"
        )
    if layer.status in (LayerStatus.DONE, LayerStatus.FAILED):
        layer = _transition(layer, LayerStatus.QUEUED, comment="re-scan")
    transaction.on_commit(lambda: change_layer_scan.delay(layer.pk))
    return layer


def layer_scan_start(*, layer_id: int) -> tuple[ChangeLayer, int, list[int]] | None:
    """queued → running: re-check the file, plan the windows (one row each); None if not startable."""
    layer = ChangeLayer.objects.select_related("plan").filter(pk=layer_id).first()
    if layer is None or layer.status != LayerStatus.QUEUED:
        return None
    try:
        layer = _transition(
            layer,
            LayerStatus.RUNNING,
            scan_run=F("scan_run") + 1,
            started_at=timezone.now(),
            finished_at=None,
            error="",
            windows_total=0,
            windows_done=0,
        )
    except ServiceError:  # a second start of the same queued layer: the first one runs it
        return None
    try:
        if not os.path.isfile(layer.path):
            raise ServiceError(_("Raster file '%(layer_path)s' no longer exists.") % {"layer_path": layer.path})
        if file_sha256(layer.path) != layer.checksum:
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


def _units_for_window(layer: ChangeLayer, info: raster.RasterInfo, rules: raster.ScanRules, window: raster.WindowSpec):
    unit_classes = [uc for uc, cs in rules.classes_by_unit_class.items() if set(cs) & set(rules.labelled_classes)]
    if not unit_classes:
        return []
    bbox = bounds_to_storage(raster.window_bounds(info, window), info.crs_wkt)
    units = units_in_bbox(plan=layer.plan, bbox=bbox, unit_classes=unit_classes).order_by("id")
    return [raster.UnitShape(u.pk, u.unit_class, storage_to_crs(u.geom, info.crs_wkt)) for u in units]


def layer_window_scan(*, layer_id: int, scan_run: int, index: int) -> bool:
    """Scan one window and store its result (upsert: a second run of the same window is a no-op).

    Any error fails the whole layer with the window named; False when nothing was done.
    """
    layer = ChangeLayer.objects.select_related("plan").filter(pk=layer_id).first()
    if layer is None or layer.status != LayerStatus.RUNNING or layer.scan_run != scan_run:
        return False
    row = ChangeLayerWindow.objects.filter(layer=layer, scan_run=scan_run, index=index).first()
    if row is None or row.status == WindowStatus.DONE:
        return False
    window = raster.WindowSpec(row.row_off, row.col_off, row.height, row.width)
    try:
        info = raster.RasterInfo.from_dict(layer.info)
        rules = raster.ScanRules.from_dict(layer.rules)
        units = _units_for_window(layer, info, rules, window)
        result = raster.window_scan(layer.path, window=window, rules=rules, units=units)
    except Exception as exc:  # noqa: BLE001 - any failure of a window fails the layer, named
        layer_fail(
            layer=layer,
            error=f"window {index} (rows {row.row_off}-{row.row_off + row.height}, cols {row.col_off}-{row.col_off + row.width}): {exc}",
        )
        return False
    with transaction.atomic():
        updated = ChangeLayerWindow.objects.filter(pk=row.pk, status=WindowStatus.PENDING).update(
            status=WindowStatus.DONE, result=result.to_dict(), finished_at=timezone.now()
        )
        if updated:
            ChangeLayer.objects.filter(pk=layer.pk, scan_run=scan_run).update(windows_done=F("windows_done") + 1)
    return bool(updated)


# ------------------------------------------------------------------- merge


@dataclass
class _LeadSpec:
    unit: ControlUnit
    patch: raster.Patch
    geom: GEOSGeometry
    area_m2: float
    pixels: int
    files: list[EvidenceFile]
    evidence: dict[str, Any]


def _class_name(legend: dict[str, str], change_class: int) -> str:
    return legend.get(str(change_class)) or raster.CHANGE_CLASSES.get(change_class, str(change_class))


def _detected_at(layer: ChangeLayer) -> datetime:
    if layer.after_date:
        return timezone.make_aware(datetime.combine(layer.after_date, time(12, 0)))
    return timezone.now()


def _imagery_chips(layer: ChangeLayer, info: raster.RasterInfo, patch: raster.Patch, stem: str) -> list[EvidenceFile]:
    files = []
    r0, c0, r1, c1 = patch.bbox
    bounds = raster.bbox_bounds(info, patch.bbox, margin=max(r1 - r0, c1 - c0) // 2 + 2)
    for label, path, caption in (
        ("before", layer.before_image, "前时相影像"),
        ("after", layer.after_image, "后时相影像"),
    ):
        if not path:
            continue
        import rasterio

        with rasterio.open(path) as ds:
            image_crs = ds.crs.to_wkt()
        storage = bounds_to_storage(bounds, info.crs_wkt)
        image_bounds = bounds_storage_to_crs(storage, image_crs)
        png = image_chip_png(path, image_bounds)
        files.append(EvidenceFile(f"{stem}-{label}.png", png, EvidenceKind.CHIP, "image/png", caption))
    return files


def _lead_specs(layer: ChangeLayer, info: raster.RasterInfo, rules: raster.ScanRules, merged: raster.MergeResult):
    legend = scan_rules_get(plan=layer.plan).legend
    unit_ids = sorted({uid for p in merged.patches for uid in p.units})
    units = {u.pk: u for u in ControlUnit.objects.filter(pk__in=unit_ids).select_related("division")}
    shapes: dict[int, raster.UnitShape] = {}
    max_target_m = settings.LEAD_TARGET_MAX_DISTANCE_M
    specs: list[_LeadSpec] = []
    for patch in merged.patches:
        for uid, (_pixels, _area_m2) in patch.units.items():
            unit = units[uid]
            shape = shapes.get(uid) or shapes.setdefault(
                uid, raster.UnitShape(uid, unit.unit_class, storage_to_crs(unit.geom, info.crs_wkt))
            )
            vec = raster.patch_vectorise(layer.path, patch, rules=rules, unit=shape, info=info)
            if not vec["pixels"]:
                raise ServiceError(
                    _("Patch %(patch_patch_key)s in unit %(unit_code)s vanished on re-reading the file.")
                    % {"patch_patch_key": patch.patch_key, "unit_code": unit.code}
                )
            geom = crs_to_storage(vec["geometry"], info.crs_wkt)
            stem = f"layer{layer.pk}-{patch.patch_key}-{unit.code}"
            files = [
                EvidenceFile(
                    f"{stem}.png",
                    change_chip_png(layer.path, patch, unit=shape, info=info, threshold=rules.threshold),
                    EvidenceKind.CHIP,
                    "image/png",
                    "变化掩膜与管控单元边界（金色）",
                )
            ]
            files += _imagery_chips(layer, info, patch, stem)
            nearest = target_nearest(geom=geom, max_distance_m=max_target_m)
            evidence = {
                "layer_id": layer.pk,
                "layer_name": layer.name,
                "layer_checksum": layer.checksum,
                "kind": layer.kind,
                "sensor": layer.sensor,
                "before_date": layer.before_date.isoformat() if layer.before_date else None,
                "after_date": layer.after_date.isoformat() if layer.after_date else None,
                "patch_key": patch.patch_key,
                "change_class": patch.change_class,
                "change_class_name": _class_name(legend, patch.change_class),
                "unit_code": unit.code,
                "unit_class": unit.unit_class,
                "pixels_in_unit": vec["pixels"],
                "area_m2": round(vec["area_m2"], 1),
                "patch_pixels_total": patch.pixels,
                "patch_units": len(patch.units),
                "min_area_m2": rules.min_area_m2,
                "threshold": rules.threshold if layer.kind == LayerKind.NDVI_DIFF else None,
                "valid_fraction": round(merged.valid_fraction, 4),
                "nearest_target": (
                    {
                        "id": nearest[0].pk,
                        "name": nearest[0].name,
                        "credit_code": nearest[0].credit_code,
                        "distance_m": round(nearest[1], 1),
                    }
                    if nearest
                    else None
                ),
                "nearest_target_max_m": max_target_m,
            }
            specs.append(_LeadSpec(unit, patch, geom, float(vec["area_m2"]), int(vec["pixels"]), files, evidence))
    return specs, legend


def layer_merge(*, layer_id: int, scan_run: int) -> MergeOutcome | None:
    """Join the window results, vectorise, raise every lead in one transaction, mark the layer done.

    Safe to run twice: leads are upserted on (file checksum, patch, unit) and the status
    is compare-and-set. Any error fails the layer and rolls the leads back.
    """
    layer = ChangeLayer.objects.select_related("plan").filter(pk=layer_id).first()
    if layer is None or layer.status != LayerStatus.RUNNING or layer.scan_run != scan_run:
        return None
    try:
        rows = list(ChangeLayerWindow.objects.filter(layer=layer, scan_run=scan_run).order_by("index"))
        missing = [r.index for r in rows if r.status != WindowStatus.DONE]
        if missing or len(rows) != layer.windows_total:
            raise ServiceError(
                _("%(value)s of %(layer_windows_total)s windows have no result (first: %(value2)s).")
                % {"value": len(missing), "layer_windows_total": layer.windows_total, "value2": missing[:5]}
            )
        info = raster.RasterInfo.from_dict(layer.info)
        rules = raster.ScanRules.from_dict(layer.rules)
        merged = raster.patches_merge([raster.WindowResult.from_dict(r.result) for r in rows], info=info, rules=rules)
        del rows
        if not merged.complete:
            raise ServiceError(_("The window results do not cover the whole raster."))
        specs, legend = _lead_specs(layer, info, rules, merged)
        outcome = MergeOutcome()
        detected_at = _detected_at(layer)
        with transaction.atomic():
            for spec in specs:
                unit_label = UnitClass(spec.unit.unit_class).label
                class_name = _class_name(legend, spec.patch.change_class)
                result = lead_raise(
                    source=LeadSource.REMOTE_SENSING,
                    source_key=f"rs:{layer.checksum}:{spec.patch.patch_key}:{spec.unit.code}",
                    plan=layer.plan,
                    unit=spec.unit,
                    geom=spec.geom,
                    title=f"{spec.unit.name}{class_name}图斑（{spec.area_m2:,.0f} 平方米）"[:200],
                    reason=(
                        f"遥感变化图层 #{layer.pk}（{layer.name}）检出{class_name}图斑，位于{unit_label} {spec.unit.code}，"
                        f"单元内面积 {spec.area_m2:,.0f} 平方米，不小于 {rules.min_area_m2:,.0f} 平方米；"
                        f"{unit_label}内的{class_name}须现场核查。"
                    ),
                    change_class=spec.patch.change_class,
                    area_m2=round(spec.area_m2, 1),
                    layer_ref=f"change_layer:{layer.pk}",
                    evidence=spec.evidence,
                    files=spec.files,
                    target=_target_of(spec.evidence),
                    detected_at=detected_at,
                    match_open_overlapping=True,
                )
                outcome.lead_ids.append(result.lead.pk)
                if result.created:
                    outcome.created += 1
                elif result.detection_added:
                    outcome.repeated += 1
                else:
                    outcome.unchanged += 1
            _transition(
                layer,
                LayerStatus.DONE,
                comment=f"{outcome.created} new, {outcome.repeated} repeat, {outcome.unchanged} already recorded",
                finished_at=timezone.now(),
                valid_fraction=merged.valid_fraction,
                changed_pixels=merged.changed_pixels,
                patches_total=merged.patches_total,
                patches_qualifying=merged.patches_qualifying,
                leads_created=outcome.created,
                leads_repeated=outcome.repeated,
                leads_unchanged=outcome.unchanged,
            )
    except Exception as exc:  # noqa: BLE001 - the layer records why; no lead survives the rollback
        layer_fail(layer=layer, error=f"merge: {getattr(exc, 'message', None) or exc}")
        return None
    return outcome


def _target_of(evidence: dict[str, Any]):
    from supervision.cases.models import EnforcementTarget

    nearest = evidence.get("nearest_target")
    return EnforcementTarget.objects.filter(pk=nearest["id"]).first() if nearest else None


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
