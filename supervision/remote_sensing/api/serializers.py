from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from supervision.zoning.models import ZoningPlan

from ..choices import LayerKind
from ..models import ChangeLayer


class ChangeLayerUploadSerializer(serializers.Serializer):
    """Input of POST /change-layers/ (multipart)."""

    file = serializers.FileField(help_text=_("GeoTIFF: uint8 landcover classes or float NDVI difference"))
    plan = serializers.SlugRelatedField(slug_field="code", queryset=ZoningPlan.objects.all())
    kind = serializers.ChoiceField(choices=LayerKind.choices)
    before_date = serializers.DateField(required=False, allow_null=True)
    after_date = serializers.DateField(required=False, allow_null=True)
    sensor = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    source = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    threshold = serializers.FloatField(required=False, allow_null=True)
    min_area_m2 = serializers.FloatField(required=False, allow_null=True, min_value=0)


class ChangeLayerSerializer(serializers.ModelSerializer):
    """A change layer with its scan status, progress (%) and lead counts."""

    plan = serializers.CharField(source="plan.code")
    progress = serializers.IntegerField(read_only=True)
    leads_total = serializers.IntegerField(read_only=True)
    leads_url = serializers.SerializerMethodField()

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
            "progress",
            "error",
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

    def get_leads_url(self, obj) -> str:
        return f"/api/v1/leads/?format=geojson&source=remote_sensing&plan={obj.plan.code}"
