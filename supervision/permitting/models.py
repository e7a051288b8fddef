from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from supervision.cases.models import EnforcementTarget
from supervision.zoning.choices import ProjectType, Verdict
from supervision.zoning.models import ZoningPlan

from .choices import EiaKind, FindingVerdict, PermitCheckReason


class PermitLimit(models.Model):
    """A permitted emission limit (排污许可限值) of one pollutant at one outlet, measured by one CEMS device."""

    target = models.ForeignKey(EnforcementTarget, on_delete=models.PROTECT, related_name="permit_limits")
    outlet_code = models.CharField(_("排放口编码"), max_length=32)
    # The HJ 212 MN of the device that measures this outlet.
    device_mn = models.CharField(_("监测设备编码"), max_length=32)
    pollutant_code = models.CharField(_("污染物代码"), max_length=16)
    hourly_limit = models.FloatField(_("小时均值限值"))
    daily_limit = models.FloatField(_("日均值限值"), null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=16)
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_to = models.DateField(_("有效期止"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("许可排放限值")
        verbose_name_plural = _("许可排放限值")
        ordering = ["target", "outlet_code", "pollutant_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_mn", "pollutant_code"], name="permit_limit_one_per_device_pollutant"
            ),
            models.CheckConstraint(condition=Q(hourly_limit__gt=0), name="permit_limit_hourly_positive"),
            models.CheckConstraint(
                condition=Q(daily_limit__isnull=True) | Q(daily_limit__gt=0), name="permit_limit_daily_positive"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="permit_limit_validity_ordered",
            ),
        ]
        indexes = [models.Index(fields=["target"], name="permit_limit_target_idx")]

    def __str__(self) -> str:
        return f"{self.device_mn} {self.pollutant_code} ≤ {self.hourly_limit} {self.unit}"


class PermitFinding(models.Model):
    """A permit (new or renewed) whose target's industry the access list of its unit prohibits or restricts."""

    target = models.ForeignKey(EnforcementTarget, on_delete=models.CASCADE, related_name="permit_findings")
    plan = models.ForeignKey(ZoningPlan, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("检查原因"), max_length=16, choices=PermitCheckReason.choices)
    verdict = models.CharField(_("研判结论"), max_length=16, choices=FindingVerdict.choices)
    industry_code = models.CharField(_("行业代码"), max_length=8)
    # The siting result as stored by zoning (units, requirements, deciding clauses).
    result = models.JSONField(_("研判结果"), default=dict)
    checked_at = models.DateTimeField(_("检查时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("许可准入检查发现")
        verbose_name_plural = _("许可准入检查发现")
        ordering = ["-checked_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=FindingVerdict.values), name="permit_finding_verdict_known"),
            models.CheckConstraint(
                condition=Q(reason__in=PermitCheckReason.values), name="permit_finding_reason_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.get_verdict_display()}"


class EiaApproval(models.Model):
    """An EIA approval (规划/项目环评批复) with the siting assessment of its site at its approval date."""

    kind = models.CharField(_("审批类型"), max_length=16, choices=EiaKind.choices)
    project_name = models.CharField(_("项目名称"), max_length=200)
    project_type = models.CharField(_("建设性质"), max_length=16, choices=ProjectType.choices, default=ProjectType.NEW)
    geom = models.GeometryField(_("选址范围"), srid=settings.STORAGE_SRID)
    industry_code = models.CharField(_("行业代码"), max_length=8)
    authority = models.CharField(_("审批机关"), max_length=200)
    document_number = models.CharField(_("批复文号"), max_length=100, unique=True)
    approved_on = models.DateField(_("批复日期"))
    target = models.ForeignKey(
        EnforcementTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="eia_approvals"
    )
    # The plan in force on the approval date, and the assessment against it (as zoning stores it).
    plan = models.ForeignKey(ZoningPlan, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(_("研判结论"), max_length=16, choices=Verdict.choices)
    conforms = models.BooleanField(_("符合准入要求"))
    assessment = models.JSONField(_("研判结果"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("环评审批")
        verbose_name_plural = _("环评审批")
        ordering = ["-approved_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EiaKind.values), name="eia_kind_known"),
            models.CheckConstraint(condition=Q(verdict__in=Verdict.values), name="eia_verdict_known"),
            models.CheckConstraint(
                condition=Q(conforms=True, verdict=Verdict.ALLOWED)
                | Q(conforms=False, verdict__in=["prohibited", "restricted"]),
                name="eia_conforms_matches_verdict",
            ),
        ]
        indexes = [models.Index(fields=["conforms", "approved_on"], name="eia_conforms_idx")]

    def __str__(self) -> str:
        return f"{self.document_number} {self.project_name}"
