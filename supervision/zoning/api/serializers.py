import json

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from supervision.api_input import GeoJSONGeometryField, GeometrySridMixin, SridField

from ..choices import AccessAction, AccessLevel, AppliesTo, Dimension, ProjectType
from ..models import AccessRequirement, ControlUnit, PlanRegion, SitingAssessment, ZoningPlan
from ..selectors import access_list_structure, access_list_structures, geometry_transformed, plans_for_user


@extend_schema_field(OpenApiTypes.STR)  # the plan's code
class VisiblePlanField(serializers.SlugRelatedField):
    """A plan code the requester may see: any version signed in, a public version (selectors.plans_for_user) else."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:  # a command or a service, not a web request: every version
            return ZoningPlan.objects.all()
        return plans_for_user(request.user)


class PlanRegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanRegion
        fields = ["code", "name", "division_adcodes"]


class AccessLayerSerializer(serializers.Serializer):
    layer = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class AccessStructureSerializer(serializers.Serializer):
    """The access list's layers: ``structure`` as plans write it ("1+3+13+N"), the count per layer."""

    structure = serializers.CharField()
    layers = AccessLayerSerializer(many=True)
    other_overlays = serializers.IntegerField()


class PlanListSerializer(serializers.ListSerializer):
    """A page of plans: their access-list structures read in two queries, not two per plan."""

    def to_representation(self, data):
        plans = list(data.all() if hasattr(data, "all") else data)
        self._context["access_lists"] = access_list_structures(plans=plans)
        return super().to_representation(plans)


class PlanSerializer(serializers.ModelSerializer):
    unit_count = serializers.IntegerField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    revised_from = serializers.SlugRelatedField(slug_field="code", read_only=True)
    regions = PlanRegionSerializer(many=True, read_only=True)
    access_list = serializers.SerializerMethodField()

    @extend_schema_field(AccessStructureSerializer)
    def get_access_list(self, plan) -> dict:
        known = self.context.get("access_lists", {})
        return known[plan.pk] if plan.pk in known else access_list_structure(plan=plan)

    class Meta:
        model = ZoningPlan
        list_serializer_class = PlanListSerializer
        fields = [
            "code",
            "name",
            "region_adcode",
            "version",
            "status",
            "status_label",
            "effective_date",
            "filed_with",
            "approved_by",
            "document_number",
            "filed_date",
            "revision_due",
            "parent",
            "revised_from",
            "unit_count",
            "regions",
            "access_list",
        ]


class PlanReviseInputSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    document = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PlanFileInputSerializer(serializers.Serializer):
    authority = serializers.CharField(max_length=200)
    number = serializers.CharField(max_length=100)
    date = serializers.DateField()
    approved_by = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class PlanParentInputSerializer(serializers.Serializer):
    """The higher plan a draft refers to, by code; null (or an empty string from a form) clears it."""

    parent = VisiblePlanField(allow_null=True)  # type: ignore[assignment]  # a declared field, not Field.parent
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        if hasattr(data, "get") and data.get("parent") == "":
            data = {**{k: data.get(k) for k in data}, "parent": None}
        return super().to_internal_value(data)


class PlanPublishInputSerializer(serializers.Serializer):
    effective_date = serializers.DateField()


class PlanUpdateInputSerializer(serializers.Serializer):
    what = serializers.CharField()
    why = serializers.CharField(required=False, allow_blank=True, default="")
    document = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ApiGeometryField(GeometryField):
    """A stored geometry leaving in API_SRID: from a `<field>_api` annotation made in SQL, else transformed here."""

    def get_attribute(self, instance):
        text = getattr(instance, f"{self.source}_geojson", None)
        if text is not None:
            # Made by PostGIS (AsGeoJSON), already in API_SRID. GeoFeatureModelSerializer asks
            # twice per feature, and a unit's polygon is large: parse it once.
            parsed = instance.__dict__.get(f"_{self.source}_geojson_parsed")
            if parsed is None:
                parsed = instance.__dict__[f"_{self.source}_geojson_parsed"] = json.loads(text)
            return parsed
        geom = getattr(instance, f"{self.source}_api", None)
        if geom is None:
            geom = super().get_attribute(instance)
            if geom is not None and geom.srid != settings.API_SRID:
                geom = geom.transform(settings.API_SRID, clone=True)
        return geom

    def to_representation(self, value):
        return value if isinstance(value, dict) else super().to_representation(value)


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


class LookupInputSerializer(GeometrySridMixin, serializers.Serializer):
    plan = VisiblePlanField()
    geometry = GeoJSONGeometryField()
    srid = SridField()


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


# --- Access lists ------------------------------------------------------------------------


class ClauseSerializer(serializers.Serializer):
    """One access-list clause (an AccessRequirement or a plain access_rules.Clause)."""

    level = serializers.ChoiceField(choices=AccessLevel.choices)
    scope_code = serializers.CharField()
    dimension = serializers.ChoiceField(choices=Dimension.choices)
    number = serializers.CharField()
    text = serializers.CharField()
    action = serializers.ChoiceField(choices=AccessAction.choices)
    industry_codes = serializers.ListField(child=serializers.CharField())
    applies_to = serializers.ChoiceField(choices=AppliesTo.choices)


class AccessRequirementSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code")
    level_label = serializers.CharField(source="get_level_display")
    dimension_label = serializers.CharField(source="get_dimension_display")
    action_label = serializers.CharField(source="get_action_display")

    class Meta:
        model = AccessRequirement
        fields = [
            "plan",
            "level",
            "level_label",
            "scope_code",
            "dimension",
            "dimension_label",
            "number",
            "text",
            "action",
            "action_label",
            "industry_codes",
            "applies_to",
        ]


class UnitDetailSerializer(UnitFeatureSerializer):
    """A unit with its whole applicable access list (plan, overlays over it, its division, itself).

    The view sets `access_list` on the unit from selectors.requirements_for_unit.
    """

    access_list = ClauseSerializer(many=True, read_only=True)

    class Meta(UnitFeatureSerializer.Meta):
        fields = [*UnitFeatureSerializer.Meta.fields, "access_list"]


class IndustrySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    parent = serializers.CharField(allow_null=True)


class IndustrySearchInputSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="")
    level = serializers.ChoiceField(choices=["section", "division", "group"], required=False)


# --- Siting assessment ------------------------------------------------------------------


class SitingInputSerializer(GeometrySridMixin, serializers.Serializer):
    plan = VisiblePlanField()
    geometry = GeoJSONGeometryField()
    srid = SridField()
    industry_code = serializers.CharField(max_length=16)
    project_type = serializers.ChoiceField(choices=ProjectType.choices)


class SitingUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    overlap_m2 = serializers.FloatField()
    share = serializers.FloatField()

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = serializers.CharField()  # a Python keyword, so added here
        return fields


class SitingClauseSerializer(serializers.Serializer):
    level = serializers.CharField()
    scope_code = serializers.CharField()
    dimension = serializers.CharField()
    number = serializers.CharField()
    text = serializers.CharField()
    action = serializers.CharField()


class SitingAssessmentSerializer(serializers.ModelSerializer):
    """A stored assessment: verdict, units touched, red line, applying and deciding clauses."""

    plan = serializers.CharField(source="plan.code")
    industry_name = serializers.CharField(source="result.industry_name")
    units = SitingUnitSerializer(source="result.units", many=True)
    requirements = SitingClauseSerializer(source="result.requirements", many=True)
    deciding = SitingClauseSerializer(source="result.deciding", many=True)
    site_area_m2 = serializers.FloatField(source="result.site_area_m2")
    geometry = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = SitingAssessment
        fields = [
            "id",
            "plan",
            "industry_code",
            "industry_name",
            "project_type",
            "verdict",
            "red_line",
            "units",
            "requirements",
            "deciding",
            "site_area_m2",
            "geometry",
            "created_at",
            "report_url",
        ]

    def get_geometry(self, obj) -> dict:
        return json.loads(geometry_transformed(obj.geom, settings.API_SRID).geojson)

    def get_report_url(self, obj) -> str:
        url = reverse("siting-report", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url
