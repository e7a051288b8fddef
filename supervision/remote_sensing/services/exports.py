"""Every lead of a plan as a GeoJSON FeatureCollection (EPSG:4326) or CSV.

Read-only; the export_leads command writes what this returns. Properties (a
contract): id, source, unit_code, unit_class, change_class, area_m2, status,
detected_at, layer.
"""

from __future__ import annotations

import csv
import io
import json

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.utils.translation import gettext as _

from supervision.cases.models import Lead
from supervision.errors import ServiceError
from supervision.tables import csv_cell
from supervision.zoning.models import ZoningPlan

EXPORT_FORMATS = ("geojson", "csv")
EXPORT_FIELDS = ["id", "source", "unit_code", "unit_class", "change_class", "area_m2", "status", "detected_at", "layer"]


def _properties(lead: Lead) -> dict:
    return {
        "id": lead.pk,
        "source": lead.source,
        "unit_code": lead.unit.code if lead.unit else None,
        "unit_class": lead.unit.unit_class if lead.unit else None,
        "change_class": lead.change_class,
        "area_m2": lead.area_m2,
        "status": lead.status,
        "detected_at": lead.detected_at.isoformat(),
        "layer": lead.layer_ref or None,
    }


def leads_export(*, plan: ZoningPlan, fmt: str) -> str:
    """The plan's leads, oldest first, as GeoJSON text or CSV text (geometry as WKT in EPSG:4326)."""
    if fmt not in EXPORT_FORMATS:
        raise ServiceError(
            _("Unknown export format '%(fmt)s'; expected one of %(value)s.")
            % {"fmt": fmt, "value": ", ".join(EXPORT_FORMATS)}
        )
    # GeoJSON is lon/lat in EPSG:4326 (RFC 7946), whatever API_SRID says.
    qs = (
        Lead.objects.filter(plan=plan)
        .select_related("unit")
        .annotate(geojson=AsGeoJSON(Transform("geom", 4326), precision=7))
        .order_by("detected_at", "id")
    )
    if fmt == "geojson":
        features = [
            {"type": "Feature", "id": lead.pk, "geometry": json.loads(lead.geojson), "properties": _properties(lead)}
            for lead in qs.iterator(chunk_size=500)
        ]
        return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*EXPORT_FIELDS, "wkt"], lineterminator="\n")
    writer.writeheader()
    for lead in qs.annotate(geom_wgs84=Transform("geom", 4326)).iterator(chunk_size=500):
        row = _properties(lead)
        row["wkt"] = lead.geom_wgs84.wkt
        writer.writerow({k: "" if v is None else csv_cell(v) for k, v in row.items()})
    return out.getvalue()
