from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext as _
from rest_framework import serializers

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


class EiaApprovalInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EiaKind.choices)
    project_name = serializers.CharField(max_length=200)
    project_type = serializers.ChoiceField(choices=ProjectType.choices, default=ProjectType.NEW)
    geom = GeoJSONGeometryField(help_text="GeoJSON geometry in EPSG:4326 (point or polygon)")
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
        if value.srid is None:
            value.srid = 4326
        return value
