from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.utils.translation import gettext as _
from rest_framework import serializers

from supervision.api_input import GeometrySridMixin, SridField
from supervision.cases.models import EnforcementTarget
from supervision.zoning.api.serializers import ApiGeometryField, GeoJSONGeometryField
from supervision.zoning.choices import ProjectType

from ..choices import EiaKind
from ..models import EiaApproval


class EiaApprovalSerializer(serializers.ModelSerializer):
    """An approval with its stored assessment; `deciding` are the clauses that decided the verdict."""

    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    target = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    deciding = serializers.SerializerMethodField()
    geom = ApiGeometryField(read_only=True)

    class Meta:
        model = EiaApproval
        fields = [
            "id",
            "kind",
            "project_name",
            "project_type",
            "industry_code",
            "authority",
            "document_number",
            "approved_on",
            "target",
            "plan",
            "verdict",
            "conforms",
            "deciding",
            "geom",
            "created_at",
        ]

    def get_deciding(self, obj) -> list[dict]:
        return obj.assessment.get("deciding", [])


class SiteGeometryField(GeoJSONGeometryField):
    """A site as a GeoJSON geometry (object or text) or as WKT text (`SRID=n;` prefix allowed)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or data.lstrip().startswith("{"):
            geom = super().to_internal_value(data)
            geom.srid = None  # GeoJSON names no CRS: the `srid` field says it
            return geom
        if len(data) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise serializers.ValidationError(_("The site is too large."))
        try:
            geom = GEOSGeometry(data.strip())
        except (GEOSException, GDALException, ValueError, TypeError):
            raise serializers.ValidationError(_("Not a valid site: expected GeoJSON or WKT.")) from None
        if geom.num_coords > settings.GEOMETRY_MAX_VERTICES:
            raise serializers.ValidationError(
                _("The site has %(count)s vertices; at most %(limit)s are accepted.")
                % {"count": geom.num_coords, "limit": settings.GEOMETRY_MAX_VERTICES}
            )
        return geom


class EiaApprovalInputSerializer(GeometrySridMixin, serializers.Serializer):
    """Recording an approval, in the API and on the page: the site as `geom` or as `lon` + `lat`.

    `geom` is in `srid` (default 4326; WKT may name its own with an `SRID=n;` prefix) and goes to
    storage through `GeometrySridMixin`, as every geometry the API takes: impossible places refused.
    """

    geometry_fields = ("geom",)

    kind = serializers.ChoiceField(choices=EiaKind.choices)
    project_name = serializers.CharField(max_length=200)
    project_type = serializers.ChoiceField(choices=ProjectType.choices, default=ProjectType.NEW)
    geom = SiteGeometryField(
        required=False, help_text="site: GeoJSON geometry or WKT (point or polygon), in `srid` unless WKT names its own"
    )
    srid = SridField()
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180, help_text="site longitude (EPSG:4326)")
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90, help_text="site latitude (EPSG:4326)")
    industry_code = serializers.CharField(max_length=8)
    authority = serializers.CharField(max_length=200)
    document_number = serializers.CharField(max_length=100)
    approved_on = serializers.DateField()
    target = serializers.SlugRelatedField(
        slug_field="credit_code", queryset=EnforcementTarget.objects.all(), required=False, allow_null=True
    )

    def validate_geom(self, value: GEOSGeometry) -> GEOSGeometry:
        if value.geom_type not in ("Point", "Polygon", "MultiPolygon") or value.empty or not value.valid:
            raise serializers.ValidationError(_("Expected a valid point or polygon."))
        return value

    def validate(self, attrs):
        lon, lat = attrs.pop("lon", None), attrs.pop("lat", None)
        if attrs.get("geom") is not None:
            if lon is not None or lat is not None:
                raise serializers.ValidationError(
                    {"geom": _("Give the site either as geom or as lon and lat, not both.")}
                )
            named = attrs["geom"].srid  # EWKT's own SRID= prefix
            if named and "srid" in self.initial_data and int(self.initial_data["srid"]) != named:
                raise serializers.ValidationError({"srid": _("The site's WKT names another SRID.")})
            if named:
                attrs["srid"] = named
            return self._stored(attrs)
        if lon is None or lat is None:
            raise serializers.ValidationError({"geom": _("Give the site as geom (GeoJSON or WKT) or as lon and lat.")})
        attrs["geom"] = Point(lon, lat, srid=4326)
        attrs["srid"] = 4326  # lon and lat are degrees whatever `srid` says
        return self._stored(attrs)

    def _stored(self, attrs):
        """The site in STORAGE_SRID (GeometrySridMixin); `srid` has done its work."""
        attrs = super().validate(attrs)
        attrs.pop("srid", None)
        return attrs
