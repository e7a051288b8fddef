"""What a device sent while offline, keyed by the id the device made, so a resend is recognised."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from supervision.cases.models import ChecklistItem, Evidence, Inspection, Lead

from .choices import FieldRecordKind


class FieldRecord(models.Model):
    """One record a device queued offline (answer, finding, photo); its client_id makes the sync exactly-once."""

    client_id = models.UUIDField(_("设备记录编号"))
    kind = models.CharField(_("类型"), max_length=16, choices=FieldRecordKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="field_records")
    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.CASCADE, related_name="field_records"
    )
    item = models.ForeignKey(
        ChecklistItem, null=True, blank=True, on_delete=models.CASCADE, related_name="field_records"
    )
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="field_records")
    # What the device sent (minus file bytes): a resend with other content under the same id is refused.
    payload = models.JSONField(default=dict)
    # The reply given the first time; a resend gets exactly this back.
    response = models.JSONField(default=dict)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("现场记录时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("同步时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("离线记录")
        verbose_name_plural = _("离线记录")
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client_id"], name="field_record_client_id_unique"),
            models.CheckConstraint(condition=Q(kind__in=FieldRecordKind.values), name="field_record_kind_known"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="field_record_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="field_record_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id}"


def field_photo_upload_to(instance, filename: str) -> str:
    return f"field/inspection-{instance.item.inspection_id}/item-{instance.item_id}/{filename}"


class FieldPhoto(models.Model):
    """A photo taken in the field with where and when: on a checklist item (file here) or a lead (an Evidence)."""

    record = models.OneToOneField(FieldRecord, on_delete=models.CASCADE, related_name="photo")
    item = models.ForeignKey(
        ChecklistItem, null=True, blank=True, on_delete=models.CASCADE, related_name="field_photos"
    )
    evidence = models.OneToOneField(
        Evidence, null=True, blank=True, on_delete=models.CASCADE, related_name="field_photo"
    )
    file = models.FileField(upload_to=field_photo_upload_to, blank=True)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    accuracy_m = models.FloatField(_("定位精度（米）"), null=True, blank=True)
    taken_at = models.DateTimeField(_("拍摄时间"))
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("现场照片")
        verbose_name_plural = _("现场照片")
        ordering = ["taken_at", "id"]
        constraints = [
            # A checklist photo keeps its file here; a lead photo is the lead's Evidence.
            models.CheckConstraint(
                condition=Q(item__isnull=False, evidence__isnull=True) | Q(item__isnull=True, evidence__isnull=False),
                name="field_photo_on_item_xor_evidence",
            ),
        ]

    def __str__(self) -> str:
        return f"photo {self.record.client_id}"
