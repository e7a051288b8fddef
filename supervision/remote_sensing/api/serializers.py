from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from supervision.zoning.models import ZoningPlan

from ..choices import LayerKind
from ..models import ChangeLayer


class ChangeLayerUploadSerializer(serializers.Serializer):
    """Input of POST /change-layers/ (multipart)."""

    file = serializers.FileField(
        required=False, help_text=_("GeoTIFF: uint8 landcover classes or float NDVI difference")
    )
    url = serializers.CharField(
        required=False,
        max_length=500,
        help_text=_("instead of a file: http(s):// or s3:// URL of a Cloud-Optimized GeoTIFF every worker can read"),
    )
    plan = serializers.SlugRelatedField(slug_field="code", queryset=ZoningPlan.objects.all())
    kind = serializers.ChoiceField(choices=LayerKind.choices)
    before_date = serializers.DateField(required=False, allow_null=True)
    after_date = serializers.DateField(required=False, allow_null=True)
    before_image = serializers.FileField(
        required=False, allow_null=True, help_text=_("GeoTIFF imagery before the change, for evidence chips")
    )
    after_image = serializers.FileField(
        required=False, allow_null=True, help_text=_("GeoTIFF imagery after the change, for evidence chips")
    )
    sensor = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    source = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    threshold = serializers.FloatField(required=False, allow_null=True)
    min_area_m2 = serializers.FloatField(required=False, allow_null=True, min_value=0)

    def validate_url(self, value: str) -> str:
        if not value.startswith(("http://", "https://", "s3://")):
            raise serializers.ValidationError(_("Give an http://, https:// or s3:// URL."))
        return value

    def to_internal_value(self, data):
        # The missing (or doubled) source is named with the other fields' problems, all in one answer.
        problems = {}
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            problems = dict(exc.detail)
            attrs = {}
        given = attrs if not problems else {name: data.get(name) for name in ("file", "url")}
        if "file" not in problems and "url" not in problems and bool(given.get("file")) == bool(given.get("url")):
            problems["file"] = [_("Send either a file or a url, not both or neither.")]
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class ChangeLayerSerializer(serializers.ModelSerializer):
    """A change layer with its scan status, progress (%) and lead counts."""

    plan = serializers.CharField(source="plan.code")
    progress = serializers.IntegerField(read_only=True)
    leads_total = serializers.IntegerField(read_only=True)
    leads_url = serializers.SerializerMethodField()
    state = serializers.CharField(read_only=True)
    state_detail = serializers.CharField(read_only=True)
    source_url = serializers.SerializerMethodField()

    class Meta:
        model = ChangeLayer
        fields = [
            "id",
            "plan",
            "kind",
            "name",
            "checksum",
            "size_bytes",
            "before_date",
            "after_date",
            "sensor",
            "source",
            "threshold",
            "min_area_m2",
            "status",
            "state",
            "state_detail",
            "progress",
            "error",
            "source_url",
            "heartbeat_at",
            "requeues",
            "patches_edge",
            "merge_seconds",
            "windows_total",
            "windows_done",
            "valid_fraction",
            "changed_pixels",
            "patches_total",
            "patches_qualifying",
            "leads_created",
            "leads_repeated",
            "leads_unchanged",
            "leads_total",
            "rules",
            "created_at",
            "started_at",
            "finished_at",
            "leads_url",
        ]

    def get_source_url(self, obj) -> str:
        """The URL a remote layer is read from (a server path is never shown)."""
        return obj.path if obj.path.startswith(("http://", "https://", "s3://")) else ""

    def get_leads_url(self, obj) -> str:
        return f"/api/v1/leads/?format=geojson&source=remote_sensing&plan={obj.plan.code}"
