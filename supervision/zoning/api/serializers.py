import json

from django.conf import settings
from django.contrib.gis.gdal import GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from drf_spectacular.utils import extend_schema_field
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from ..models import ControlUnit, ZoningPlan


class PlanSerializer(serializers.ModelSerializer):
    unit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ZoningPlan
        fields = ["code", "name", "region_adcode", "version", "status", "effective_date", "filed_with", "unit_count"]


class ApiGeometryField(GeometryField):
    """A stored geometry leaving in API_SRID: from a `<field>_api` annotation made in SQL, else transformed here."""

    def get_attribute(self, instance):
        geom = getattr(instance, f"{self.source}_api", None)
        if geom is None:
            geom = super().get_attribute(instance)
            if geom is not None and geom.srid != settings.API_SRID:
                geom = geom.transform(settings.API_SRID, clone=True)
        return geom


class UnitFeatureSerializer(GeoFeatureModelSerializer):
    """A unit as a GeoJSON Feature in API_SRID (the queryset annotates `geom_api`)."""

    plan = serializers.CharField(source="plan.code")
    division = serializers.CharField(source="division.adcode")
    division_name = serializers.CharField(source="division.name")
    unit_class_label = serializers.CharField(source="get_unit_class_display")
    geom = ApiGeometryField(read_only=True)

    class Meta:
        model = ControlUnit
        geo_field = "geom"
        id_field = "code"
        fields = ["code", "name", "plan", "unit_class", "unit_class_label", "division", "division_name", "area_m2"]


GEOJSON_GEOMETRY_SCHEMA = {
    "type": "object",
    "description": "GeoJSON geometry (Point, LineString, Polygon or Multi*), coordinates in `srid`",
    "properties": {"type": {"type": "string"}, "coordinates": {"type": "array", "items": {}}},
    "required": ["type", "coordinates"],
}


@extend_schema_field(GEOJSON_GEOMETRY_SCHEMA)
class GeoJSONGeometryField(serializers.Field):
    """A GeoJSON geometry object (or its JSON text); SRID set later from `srid`."""

    default_error_messages = {"invalid": _("Not a valid GeoJSON geometry: {reason}")}

    def to_internal_value(self, data):
        text = data if isinstance(data, str) else json.dumps(data)
        if not isinstance(data, (str, dict)):
            self.fail("invalid", reason="expected a GeoJSON object")
        try:
            geom = GEOSGeometry(text)
        except (GEOSException, GDALException, ValueError, TypeError) as exc:
            self.fail("invalid", reason=str(exc) or "unreadable")
        if geom.empty:
            self.fail("invalid", reason="empty geometry")
        if geom.geom_type not in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"):
            self.fail("invalid", reason=f"{geom.geom_type} is not supported")
        if not geom.valid:
            self.fail("invalid", reason=geom.valid_reason)
        return geom

    def to_representation(self, value):
        return json.loads(value.geojson)


def geometry_with_srid(geom: GEOSGeometry, srid: int) -> GEOSGeometry:
    """Assign the declared SRID and move to storage; unknown SRIDs are refused."""
    try:
        SpatialReference(srid)
    except (GDALException, ValueError):
        raise serializers.ValidationError({"srid": f"{srid} is not a known EPSG coordinate reference system."}) from None
    geom.srid = srid
    if srid != settings.STORAGE_SRID:
        geom.transform(settings.STORAGE_SRID)
    return geom


class LookupInputSerializer(serializers.Serializer):
    plan = serializers.SlugRelatedField(slug_field="code", queryset=ZoningPlan.objects.all())
    geometry = GeoJSONGeometryField()
    srid = serializers.IntegerField(required=False, default=settings.API_SRID)

    def validate(self, attrs):
        attrs["geometry"] = geometry_with_srid(attrs["geometry"], attrs["srid"])
        return attrs


class LookupUnitSerializer(serializers.Serializer):
    code = serializers.CharField(source="unit.code")
    name = serializers.CharField(source="unit.name")
    unit_class = serializers.CharField(source="unit.unit_class")
    division = serializers.CharField(source="unit.division.adcode")
    overlap_m2 = serializers.FloatField()
    overlap_m = serializers.FloatField()
    share = serializers.FloatField()


class LookupOverlaySerializer(serializers.Serializer):
    code = serializers.CharField(source="overlay.code")
    name = serializers.CharField(source="overlay.name")
    kind = serializers.CharField(source="overlay.kind")
    overlap_m2 = serializers.FloatField()


class LookupOutputSerializer(serializers.Serializer):
    geometry_type = serializers.CharField()
    site_area_m2 = serializers.FloatField()
    site_length_m = serializers.FloatField()
    units = LookupUnitSerializer(many=True)
    overlays = LookupOverlaySerializer(many=True)


class SummaryRowSerializer(serializers.Serializer):
    district = serializers.CharField()
    adcode = serializers.CharField()
    priority_units = serializers.IntegerField()
    priority_area_pct = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    key_units = serializers.IntegerField()
    key_area_pct = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    general_units = serializers.IntegerField()
    general_area_pct = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    area_km2 = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
