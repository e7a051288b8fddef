from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

from .choices import EvidenceKind, LeadSource, LeadStatus, PermitClass
from .validators import validate_credit_code


class EnforcementTarget(models.Model):
    """An enforcement target (监管对象), mainly an enterprise with a discharge permit."""

    name = models.CharField(_("名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code])
    permit_number = models.CharField(_("排污许可证编号"), max_length=64, blank=True)
    permit_class = models.CharField(_("许可管理类别"), max_length=16, choices=PermitClass.choices, blank=True)
    industry_code = models.CharField(_("行业代码"), max_length=8, blank=True)
    location = models.PointField(_("位置"), srid=settings.STORAGE_SRID)
    site = models.MultiPolygonField(_("厂界"), srid=settings.STORAGE_SRID, null=True, blank=True)
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="targets")
    unit = models.ForeignKey(ControlUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="targets")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("监管对象")
        verbose_name_plural = _("监管对象")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(permit_class__in=["", *PermitClass.values]), name="target_permit_class_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code})"


class Lead(models.Model):
    """A lead (线索): something that may be a violation and must be checked on the ground."""

    source = models.CharField(_("来源"), max_length=32, choices=LeadSource.choices)
    status = models.CharField(_("状态"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    plan = models.ForeignKey(ZoningPlan, on_delete=models.PROTECT, related_name="leads")
    # The unit version in force when the lead was raised; never re-pointed to a later plan.
    unit = models.ForeignKey(ControlUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="leads")
    target = models.ForeignKey(EnforcementTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    reason = models.TextField(_("生成原因"), blank=True)
    geom = models.GeometryField(_("位置"), srid=settings.STORAGE_SRID)
    area_m2 = models.FloatField(_("面积（平方米）"), null=True, blank=True)
    change_class = models.PositiveSmallIntegerField(_("变化类型"), null=True, blank=True)
    layer_ref = models.CharField(_("遥感图层"), max_length=200, blank=True)
    evidence = models.JSONField(_("证据数据"), default=dict, blank=True)
    detections = models.PositiveIntegerField(_("检出次数"), default=1)
    detected_at = models.DateTimeField(_("首次发现时间"))
    last_detected_at = models.DateTimeField(_("最近发现时间"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=LeadSource.values), name="lead_source_known"),
            models.CheckConstraint(condition=Q(status__in=LeadStatus.values), name="lead_status_known"),
            models.CheckConstraint(condition=Q(detections__gte=1), name="lead_detections_positive"),
        ]
        indexes = [
            models.Index(fields=["division", "status"], name="lead_division_status_idx"),
            models.Index(fields=["plan", "source", "status"], name="lead_plan_source_status_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class LeadDetection(models.Model):
    """One observation behind a lead, keyed naturally so a re-run adds nothing."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="detection_rows")
    source_key = models.CharField(max_length=255, unique=True)
    layer_ref = models.CharField(max_length=200, blank=True)
    detected_at = models.DateTimeField()
    area_m2 = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["detected_at", "id"]


def evidence_upload_to(instance, filename: str) -> str:
    return f"evidence/lead-{instance.lead_id}/{filename}"


class Evidence(models.Model):
    """A file attached to a lead: a scan's image chip, a site photo, a PDF."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="evidence_files")
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)
    file = models.FileField(upload_to=evidence_upload_to)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    caption = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
