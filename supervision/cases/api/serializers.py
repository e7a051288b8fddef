import json
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from supervision.api_input import INT32_MAX, BoundedDateTimeField, GeoJSONGeometryField, GeometrySridMixin, SridField
from supervision.api_render import PreEncodedJSON, features_encode
from supervision.zoning.models import AdministrativeDivision, ZoningPlan
from supervision.zoning.selectors import geometry_transformed

from .. import selectors
from ..choices import (
    LEAD_MANUAL_SOURCES,
    ChecklistResult,
    DayKind,
    DismissReason,
)
from ..models import (
    Case,
    CaseEvent,
    ChecklistItem,
    EnforcementTarget,
    Evidence,
    Inspection,
    InspectionPlan,
    Lead,
    LeadEvent,
    Notification,
)
from ..services.inspections import DevicePlace

# --- Fields ----------------------------------------------------------------------------------


@extend_schema_field({"type": "object", "nullable": True, "description": "GeoJSON geometry in API_SRID (EPSG:4326)"})
class GeoJSONOutField(serializers.Field):
    """A geometry leaving in API_SRID: from a `<field>_geojson` annotation (AsGeoJSON in SQL), else transformed here."""

    def get_attribute(self, instance):
        text = getattr(instance, f"{self.source}_geojson", None)
        return text if text is not None else super().get_attribute(instance)

    def to_representation(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            return json.loads(value)
        # One cached CoordTransform per (source, target): building one costs ~40 ms, using it microseconds.
        return json.loads(geometry_transformed(value, settings.API_SRID).geojson)


class DivisionField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="adcode", queryset=AdministrativeDivision.objects.all(), **kwargs)
        self.error_messages["does_not_exist"] = "Unknown division adcode '{value}'."


class DeadlineInputMixin(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650)
    day_kind = serializers.ChoiceField(choices=DayKind.choices, required=False, default=DayKind.CALENDAR)
    due_date = serializers.DateField(required=False, help_text="The last day (instead of days)")

    def validate(self, attrs):
        if attrs.get("days") is not None and attrs.get("due_date") is not None:
            raise serializers.ValidationError(_("Give either days or due_date for the deadline, not both."))
        return attrs


# --- Output ----------------------------------------------------------------------------------


class EvidenceSerializer(serializers.ModelSerializer):
    # The signed-in, scoped download route (production serves no /media/).
    url = serializers.SerializerMethodField()
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None, allow_null=True)

    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "url",
            "content_type",
            "size_bytes",
            "caption",
            "uploaded_by",
            "created_at",
            "lead_event",
            "case_event",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        url = reverse("attachment-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class _EventSerializer(serializers.ModelSerializer):
    """A workflow step: who, when, from and to, its note as stored and in the reader's language."""

    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    attachments = EvidenceSerializer(many=True, read_only=True)
    display_comment = serializers.CharField(read_only=True, help_text="The comment in the reader's language.")

    FIELDS = ["id", "kind", "from_status", "to_status", "actor", "at", "comment", "display_comment"]


class LeadEventSerializer(_EventSerializer):
    class Meta:
        model = LeadEvent
        fields = [*_EventSerializer.FIELDS, "data", "attachments"]


class CaseEventSerializer(_EventSerializer):
    class Meta:
        model = CaseEvent
        fields = [*_EventSerializer.FIELDS, "escalation_level", "data", "attachments"]


class LeadSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code")
    division = serializers.CharField(source="division.adcode")
    division_name = serializers.CharField(source="division.name")
    unit = serializers.CharField(source="unit.code", default=None, allow_null=True)
    unit_class = serializers.CharField(source="unit.unit_class", default=None, allow_null=True)
    target = serializers.IntegerField(source="target_id", allow_null=True)
    overdue = serializers.BooleanField(read_only=True)
    case = serializers.SerializerMethodField()
    geom = GeoJSONOutField()

    class Meta:
        model = Lead
        fields = [
            "id",
            "source",
            "status",
            "title",
            "description",
            "reason",
            "plan",
            "division",
            "division_name",
            "unit",
            "unit_class",
            "target",
            "area_m2",
            "change_class",
            "detections",
            "detected_at",
            "last_detected_at",
            "dispatched_at",
            "verification_due_at",
            "verification_day_kind",
            "overdue",
            "concluded_at",
            "dismiss_code",
            "dismiss_reason",
            "merged_into",
            "case",
            "geom",
        ]

    def get_case(self, obj) -> int | None:
        case = getattr(obj, "case", None) if obj.status == "confirmed" else None
        return case.pk if case else None


class LeadFeatureSerializer(serializers.Serializer):
    """A lead as a GeoJSON Feature (the list with ?format=geojson): geometry in API_SRID."""

    @cached_property
    def _properties(self) -> "LeadSerializer":
        # One LeadSerializer for the whole page: building its fields per row cost ~4 ms a lead.
        return LeadSerializer(context=self.context)

    def to_representation(self, obj):
        props = dict(self._properties.to_representation(obj))
        geometry = props.pop("geom")
        props["layer"] = obj.layer_ref or None
        return {"type": "Feature", "id": obj.pk, "geometry": geometry, "properties": props}


class LeadFeaturePage:
    """A page of the lead list as GeoJSON features, built from plain rows (`values_list`) with
    the geometry as GeoJSON text from PostGIS: the same JSON as LeadFeatureSerializer, without
    a model instance, a DRF field or a parse of the geometry per row (the lead list is the
    desk's busiest request; README "Benchmarks"). LeadSerializer stays the one definition of
    the fields and their schema: `columns` must name each of its fields, in its order, and
    tests/api/test_list_queries.py checks the two give the same JSON for every kind of lead."""

    # LeadSerializer field -> (values_list column, how the value leaves)
    columns = {
        "id": ("id", "int"),
        "source": ("source", "text"),
        "status": ("status", "text"),
        "title": ("title", "text"),
        "description": ("description", "text"),
        "reason": ("reason", "text"),
        "plan": ("plan__code", "text"),
        "division": ("division__adcode", "text"),
        "division_name": ("division__name", "text"),
        "unit": ("unit__code", "text"),
        "unit_class": ("unit__unit_class", "text"),
        "target": ("target_id", "int"),
        "area_m2": ("area_m2", "float"),
        "change_class": ("change_class", "int"),
        "detections": ("detections", "int"),
        "detected_at": ("detected_at", "datetime"),
        "last_detected_at": ("last_detected_at", "datetime"),
        "dispatched_at": ("dispatched_at", "datetime"),
        "verification_due_at": ("verification_due_at", "datetime"),
        "verification_day_kind": ("verification_day_kind", "text"),
        "overdue": ("overdue", "bool"),
        "concluded_at": ("concluded_at", "datetime"),
        "dismiss_code": ("dismiss_code", "text"),
        "dismiss_reason": ("dismiss_reason", "text"),
        "merged_into": ("merged_into_id", "int"),
        "case": ("case__id", "case"),
        "geom": ("geom_geojson", "geometry"),
    }
    extra = ("layer_ref",)

    @classmethod
    def rows(cls, queryset):
        """The page's columns of a leads_for() queryset (filtered, ordered; the paginator slices it)."""
        queryset = queryset.annotate(geom_geojson=AsGeoJSON(Transform("geom", settings.API_SRID), precision=7))
        return queryset.values_list(*(column for column, _ in cls.columns.values()), *cls.extra)

    @classmethod
    def encode(cls, rows) -> PreEncodedJSON:
        """The features of `rows` as one JSON array, encoded as DRF's JSONRenderer would."""
        tz = timezone.get_current_timezone()
        names = list(cls.columns)
        kinds = [kind for _, kind in cls.columns.values()]
        status_at = names.index("status")

        def value(kind, v, row):
            if v is None:
                return None
            if kind == "datetime":
                text = v.astimezone(tz).isoformat()  # DRF: localtime, ISO 8601, "Z" for UTC
                return text[:-6] + "Z" if text.endswith("+00:00") else text
            if kind == "case":  # as LeadSerializer.get_case: only a confirmed lead names its case
                return v if row[status_at] == "confirmed" else None
            if kind == "float":
                return float(v)
            return v

        def features():
            for row in rows:
                props = {}
                geometry = None
                for name, kind, v in zip(names, kinds, row, strict=False):
                    if kind == "geometry":
                        geometry = v
                    else:
                        props[name] = value(kind, v, row)
                props["layer"] = row[len(names)] or None
                yield row[0], geometry, props

        return features_encode(features())


class LeadDetailSerializer(LeadSerializer):
    display_title = serializers.CharField(
        read_only=True, help_text="The title in the reader's language; a scan lead's (stored in Chinese) rebuilt."
    )
    display_reason = serializers.CharField(
        read_only=True, help_text="The reason in the reader's language; a scan lead's (stored in Chinese) rebuilt."
    )
    evidence = serializers.JSONField()
    events = LeadEventSerializer(many=True, read_only=True)
    attachments = EvidenceSerializer(source="evidence_files", many=True, read_only=True)
    merged_leads = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(help_text="What the requesting user may do on it now.")

    class Meta(LeadSerializer.Meta):
        fields = LeadSerializer.Meta.fields + [
            "display_title",
            "display_reason",
            "layer_ref",
            "evidence",
            "evidence_status",
            "events",
            "attachments",
            "merged_leads",
            "allowed_actions",
            "assignee",
        ]

    def get_allowed_actions(self, lead) -> list[str]:
        user = self.context.get("user") or getattr(self.context.get("request"), "user", None)
        return selectors.lead_allowed_actions(user=user, lead=lead) if user is not None else []


class CaseSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code")
    division = serializers.CharField(source="division.adcode")
    division_name = serializers.CharField(source="division.name")
    unit = serializers.CharField(source="unit.code", default=None, allow_null=True)
    target = serializers.IntegerField(source="target_id", allow_null=True)
    target_name = serializers.CharField(source="target.name", default=None, allow_null=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "title",
            "status",
            "lead",
            "plan",
            "division",
            "division_name",
            "unit",
            "target",
            "target_name",
            "opened_at",
            "rectification_requirements",
            "rectification_ordered_at",
            "rectification_due_at",
            "rectification_day_kind",
            "overdue",
            "submitted_at",
            "accepted_at",
            "escalation_level",
            "escalated_at",
            "penalty_amount_yuan",
            "penalty_legal_basis",
            "penalty_decided_at",
            "police_transferred_at",
            "police_agency",
            "published_at",
            "public_summary",
        ]


class CaseDetailSerializer(CaseSerializer):
    events = CaseEventSerializer(many=True, read_only=True)
    attachments = EvidenceSerializer(source="evidence_files", many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(help_text="What the requesting user may do on it now.")

    class Meta(CaseSerializer.Meta):
        fields = CaseSerializer.Meta.fields + ["events", "attachments", "allowed_actions", "assignee"]

    def get_allowed_actions(self, case) -> list[str]:
        user = self.context.get("user") or getattr(self.context.get("request"), "user", None)
        return selectors.case_allowed_actions(user=user, case=case) if user is not None else []


class TypicalCasePublicSerializer(serializers.ModelSerializer):
    """What the public sees of a typical case: its number, district, summary and outcome — no people, no files."""

    division_name = serializers.CharField(source="division.name")

    class Meta:
        model = Case
        fields = ["number", "title", "division_name", "public_summary", "published_at", "status", "penalty_amount_yuan"]


class TargetSerializer(serializers.ModelSerializer):
    division = serializers.CharField(source="division.adcode")
    unit = serializers.CharField(source="unit.code", default=None, allow_null=True)
    unit_class = serializers.CharField(source="unit.unit_class", default=None, allow_null=True)
    location = GeoJSONOutField()

    class Meta:
        model = EnforcementTarget
        fields = [
            "id",
            "name",
            "credit_code",
            "permit_number",
            "permit_class",
            "industry_code",
            "division",
            "unit",
            "unit_class",
            "location",
        ]


class ChecklistPhotoSerializer(serializers.Serializer):
    """A photo taken on a checklist item (field app), with where and when; `url` serves the file to those in scope."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    caption = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    accuracy_m = serializers.FloatField(allow_null=True)
    taken_at = serializers.DateTimeField()

    def get_url(self, obj) -> str:
        return reverse("field-photo-file", args=[obj.pk])


class ChecklistItemSerializer(serializers.ModelSerializer):
    checked_by = serializers.CharField(source="checked_by.username", default=None, allow_null=True)
    photos = ChecklistPhotoSerializer(source="field_photos", many=True, read_only=True)

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "position",
            "requirement_number",
            "dimension",
            "text",
            "result",
            "note",
            "checked_by",
            "checked_at",
            "lead",
            "latitude",
            "longitude",
            "accuracy_m",
            "located_at",
            "photos",
        ]


class InspectionSerializer(serializers.ModelSerializer):
    target_name = serializers.CharField(source="target.name")
    division = serializers.CharField(source="division.adcode")
    unit = serializers.CharField(source="unit.code", default=None, allow_null=True)
    inspectors = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "inspection_plan",
            "draw_order",
            "target",
            "target_name",
            "division",
            "unit",
            "inspectors",
            "status",
            "started_at",
            "completed_at",
            "checklist_source",
        ]


class InspectionDetailSerializer(InspectionSerializer):
    items = ChecklistItemSerializer(many=True, read_only=True)

    class Meta(InspectionSerializer.Meta):
        fields = InspectionSerializer.Meta.fields + ["items"]


class InspectionPlanSerializer(serializers.ModelSerializer):
    zoning_plan = serializers.CharField(source="zoning_plan.code")
    division = serializers.CharField(source="division.adcode", default=None, allow_null=True)

    class Meta:
        model = InspectionPlan
        fields = [
            "id",
            "name",
            "zoning_plan",
            "division",
            "period_start",
            "period_end",
            "target_count",
            "inspectors_per_target",
            "avoidance",
            "status",
            "seed",
            "algorithm",
            "target_pool",
            "inspector_pool",
            "draw_result",
            "drawn_at",
            "published_at",
        ]


class InspectionPlanPublicSerializer(serializers.ModelSerializer):
    """一公开: the draw and how to re-run it; targets by name, inspectors by username."""

    division = serializers.CharField(source="division.name", default=None, allow_null=True)
    drawn = serializers.SerializerMethodField()

    class Meta:
        model = InspectionPlan
        fields = [
            "id",
            "name",
            "division",
            "period_start",
            "period_end",
            "seed",
            "algorithm",
            "target_pool",
            "inspector_pool",
            "draw_result",
            "drawn",
            "published_at",
        ]

    def get_drawn(self, obj) -> list[dict]:
        return [
            {
                "order": i.draw_order,
                "target": i.target.name,
                "credit_code": i.target.credit_code,
                "inspectors": [u.username for u in i.inspectors.all()],
            }
            for i in obj.inspections.select_related("target").prefetch_related("inspectors")
        ]


class VerifySerializer(serializers.Serializer):
    seed = serializers.IntegerField()
    algorithm = serializers.CharField()
    matches = serializers.BooleanField()
    result = serializers.JSONField()


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "lead", "case", "inspection", "created_at", "read_at"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    division = serializers.CharField(allow_null=True)
    city_wide = serializers.BooleanField()


# --- Input -----------------------------------------------------------------------------------


class FilesInput(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class LeadCreateInput(GeometrySridMixin, FilesInput):
    source = serializers.ChoiceField(choices=[(s.value, s.label) for s in LEAD_MANUAL_SOURCES])
    plan = serializers.SlugRelatedField(slug_field="code", queryset=ZoningPlan.objects.all())
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    location = GeoJSONGeometryField()
    srid = SridField()
    division = DivisionField(required=False, allow_null=True, default=None)
    target = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=INT32_MAX)
    received_at = BoundedDateTimeField(required=False, allow_null=True, default=None)

    geometry_fields = ("location",)


class CommentInput(FilesInput):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DispatchInput(DeadlineInputMixin):
    division = DivisionField(required=False, allow_null=True, default=None)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    day_kind = serializers.ChoiceField(choices=DayKind.choices, required=False, default=None, allow_null=True)


class DismissInput(FilesInput):
    reason_code = serializers.ChoiceField(choices=DismissReason.choices, required=False, default=DismissReason.OTHER)
    reason = serializers.CharField(
        allow_blank=True, error_messages={"required": "A reason is required to dismiss a lead."}
    )


class MergeInput(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=INT32_MAX)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ConfirmInput(CommentInput):
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class AttachInput(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    caption = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class OrderRectificationInput(DeadlineInputMixin):
    requirements = serializers.CharField(
        allow_blank=True, error_messages={"required": "Rectification requirements are required."}
    )
    target = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=INT32_MAX)
    party_unknown = serializers.BooleanField(
        required=False, default=False, help_text="责任主体不明/待查: order without a party; name it later (name-party)."
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class AssignInput(serializers.Serializer):
    assignee = serializers.IntegerField(
        allow_null=True, help_text="User id of an officer or inspector of its division; null clears it."
    )


class NamePartyInput(serializers.Serializer):
    target = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnInput(DeadlineInputMixin):
    note = serializers.CharField(allow_blank=True, error_messages={"required": "A note is required."})


class PenaltyInput(serializers.Serializer):
    amount_yuan = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    legal_basis = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class PoliceTransferInput(serializers.Serializer):
    agency = serializers.CharField(max_length=200)
    comment = serializers.CharField(allow_blank=True)


class PublishInput(serializers.Serializer):
    summary = serializers.CharField(allow_blank=True)


class InspectionPlanCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    zoning_plan = serializers.SlugRelatedField(slug_field="code", queryset=ZoningPlan.objects.all())
    division = DivisionField(required=False, allow_null=True, default=None)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    target_count = serializers.IntegerField(min_value=1, max_value=10_000)
    inspectors_per_target = serializers.IntegerField(min_value=1, max_value=10, default=2)
    avoidance = serializers.BooleanField(default=True)
    seed = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=2**62)


class PlaceInput(serializers.Serializer):
    """Where and when the device made a record (WGS84, from navigator.geolocation); all optional."""

    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    accuracy_m = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1e6)
    recorded_at = BoundedDateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError({"longitude": _("Give latitude and longitude together.")})
        return attrs

    @staticmethod
    def place(v) -> DevicePlace:
        """The validated position as the services take it."""
        return DevicePlace(
            latitude=v.get("latitude"),
            longitude=v.get("longitude"),
            accuracy_m=v.get("accuracy_m"),
            at=v.get("recorded_at"),
        )


class ItemRecordInput(PlaceInput):
    result = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in (ChecklistResult.PASS, ChecklistResult.FAIL, ChecklistResult.NOTE)]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
