from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import DivisionLevel, OverlayKind, PlanStatus, UnitClass


class ZoningPlan(models.Model):
    """One version of a region's zoning plan (生态环境分区管控方案)."""

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    region_adcode = models.CharField(_("行政区划代码"), max_length=6)
    version = models.CharField(_("版本"), max_length=32, default="1")
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    effective_date = models.DateField(_("生效日期"), null=True, blank=True)
    filed_with = models.CharField(_("备案机关"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("分区管控方案")
        verbose_name_plural = _("分区管控方案")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(region_adcode__regex=r"^\d{6}$"), name="plan_region_adcode_6_digits"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PlanStatus]), name="plan_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PlanEvent(models.Model):
    """One status change of a plan (filed, effective, superseded)."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class AdministrativeDivision(models.Model):
    """A province, city or county-level division, keyed by its 6-digit adcode."""

    adcode = models.CharField(_("行政区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=16, choices=DivisionLevel.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = _("行政区")
        verbose_name_plural = _("行政区")
        ordering = ["adcode"]
        constraints = [
            models.CheckConstraint(condition=Q(adcode__regex=r"^\d{6}$"), name="division_adcode_6_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.adcode})"


class ControlUnit(models.Model):
    """An environmental control unit (环境管控单元) of one plan version."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="units")
    code = models.CharField(_("环境管控单元编码"), max_length=32)
    name = models.CharField(_("环境管控单元名称"), max_length=200)
    unit_class = models.CharField(_("管控单元分类"), max_length=16, choices=UnitClass.choices)
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="units")
    geom = models.MultiPolygonField(srid=settings.STORAGE_SRID, spatial_index=True)
    area_m2 = models.FloatField(_("面积（平方米）"), default=0)
    attributes = models.JSONField(_("原始属性"), default=dict, blank=True)

    class Meta:
        verbose_name = _("环境管控单元")
        verbose_name_plural = _("环境管控单元")
        ordering = ["plan", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="unit_code_unique_in_plan"),
            models.CheckConstraint(condition=Q(unit_class__in=[c.value for c in UnitClass]), name="unit_class_known"),
            models.CheckConstraint(condition=Q(area_m2__gte=0), name="unit_area_non_negative"),
        ]
        indexes = [models.Index(fields=["plan", "unit_class"], name="unit_plan_class_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Overlay(models.Model):
    """A layer laid over the units: an ecological red line, a river basin, another area."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="overlays")
    kind = models.CharField(_("类型"), max_length=16, choices=OverlayKind.choices)
    code = models.CharField(_("编码"), max_length=64)
    name = models.CharField(_("名称"), max_length=200)
    geom = models.MultiPolygonField(srid=settings.STORAGE_SRID, spatial_index=True)
    area_m2 = models.FloatField(_("面积（平方米）"), default=0)

    class Meta:
        verbose_name = _("叠加图层")
        verbose_name_plural = _("叠加图层")
        ordering = ["plan", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="overlay_code_unique_in_plan"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in OverlayKind]), name="overlay_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
