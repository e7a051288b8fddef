import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    AccessAction,
    AccessLevel,
    AppliesTo,
    BottomLineIndicator,
    Dimension,
    DivisionKind,
    DivisionLevel,
    OverlayKind,
    PlanStatus,
    ProjectType,
    UnitClass,
    Verdict,
)


class ZoningPlan(models.Model):
    """One version of a region's zoning plan (生态环境分区管控方案)."""

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    region_adcode = models.CharField(_("行政区划代码"), max_length=6)
    version = models.CharField(_("版本"), max_length=32, default="1")
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    effective_date = models.DateField(_("生效日期"), null=True, blank=True)
    filed_with = models.CharField(_("备案机关"), max_length=200, blank=True)
    # Bumped whenever the plan's units or overlays change: vector-tile ETags derive from it.
    content_version = models.PositiveIntegerField(_("内容版本"), default=1)
    # The record of approval and filing (审批、备案): who approved, the document, the dates, who filed it.
    approved_by = models.CharField(_("批准机关"), max_length=200, blank=True)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    filed_date = models.DateField(_("备案日期"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The full review every five years (五年修编): due five years after the version takes effect.
    revision_due = models.DateField(_("修编到期日"), null=True, blank=True)
    # Set when the planners were told the revision is due, so the beat task tells them once.
    revision_notified_at = models.DateTimeField(null=True, blank=True)
    # The version this draft was revised from (plan_revise), and the higher plan a city plan refers to.
    revised_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions", verbose_name=_("修订自")
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("上级方案")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("分区管控方案")
        verbose_name_plural = _("分区管控方案")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(region_adcode__regex=r"^\d{6}$"), name="plan_region_adcode_6_digits"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in PlanStatus]), name="plan_status_known"),
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
    # 区 / 县 / 县级市 …: names the officials (区长, 县长, 市长); filled from the name or adcode.
    kind = models.CharField(_("类型"), max_length=16, choices=DivisionKind.choices, default=DivisionKind.OTHER)
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


class PlanRegion(models.Model):
    """A key region (重点区域) of a plan: prefectures or counties grouped between province and prefecture.

    The "3" of Heilongjiang's "1+3+13+N" list: the region level of the jurisdiction hierarchy
    (province → region → prefecture → county → unit). Its members are 6-digit adcodes of
    prefectures (``230100``) or counties; a division belongs to one region of a plan at most.
    Part of the plan's content: copied on revision, immutable once the plan is filed.
    """

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="regions")
    code = models.CharField(_("区域编码"), max_length=64)
    name = models.CharField(_("区域名称"), max_length=200)
    # Member prefectures / counties, sorted adcodes.
    division_adcodes = models.JSONField(_("所辖行政区"), default=list)
    position = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("重点区域")
        verbose_name_plural = _("重点区域")
        ordering = ["plan", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="region_code_unique_in_plan"),
            models.CheckConstraint(condition=~Q(code=""), name="region_code_not_empty"),
            models.CheckConstraint(condition=~Q(division_adcodes=[]), name="region_has_divisions"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TileShape(models.Model):
    """A unit or overlay generalised for a band of low zooms, in web mercator: what low-zoom tiles draw.

    Built from the plan's content at one `content_version` (`zoning.tiles.tile_shapes_build`);
    rows of an older version are replaced at the next build. Layer `districts` (band 0) holds
    the district outlines every map draws for context (code = adcode, name).
    """

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="tile_shapes")
    content_version = models.PositiveIntegerField()
    layer = models.CharField(max_length=16)
    band = models.PositiveSmallIntegerField()
    unit_class = models.CharField(max_length=16, blank=True)
    code = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, blank=True)
    geom = models.GeometryField(srid=3857, spatial_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(layer__in=["units", "overlays", "districts"]), name="tileshape_layer_known"
            ),
        ]
        indexes = [models.Index(fields=["plan", "layer", "band", "content_version"], name="tileshape_lookup_idx")]


class AccessRequirement(models.Model):
    """One clause of a plan's access list (生态环境准入清单) at one layer: plan, region, overlay, division or unit."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="requirements")
    level = models.CharField(_("层级"), max_length=16, choices=AccessLevel.choices)
    # The plan's code (plan), a region code (region), an overlay code (overlay), an adcode (division)
    # or a unit code (unit).
    scope_code = models.CharField(_("范围编码"), max_length=64)
    dimension = models.CharField(_("维度"), max_length=32, choices=Dimension.choices)
    number = models.CharField(_("条款编号"), max_length=64)
    text = models.TextField(_("条款内容"))
    action = models.CharField(_("管控类型"), max_length=16, choices=AccessAction.choices)
    # Normalised GB/T 4754-2017 codes with their section letter ("C", "C26", "C2614"); [] = every industry.
    industry_codes = models.JSONField(_("行业代码"), default=list, blank=True)
    applies_to = models.CharField(_("适用"), max_length=16, choices=AppliesTo.choices, default=AppliesTo.ALL)
    # Order in the imported file, so that an export gives the file back.
    position = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("准入要求")
        verbose_name_plural = _("准入要求")
        ordering = ["plan", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="requirement_number_unique_in_plan"),
            models.CheckConstraint(condition=Q(level__in=AccessLevel.values), name="requirement_level_known"),
            models.CheckConstraint(condition=Q(dimension__in=Dimension.values), name="requirement_dimension_known"),
            models.CheckConstraint(condition=Q(action__in=AccessAction.values), name="requirement_action_known"),
            models.CheckConstraint(condition=Q(applies_to__in=AppliesTo.values), name="requirement_applies_to_known"),
            models.CheckConstraint(condition=~Q(scope_code=""), name="requirement_scope_code_not_empty"),
            models.CheckConstraint(condition=~Q(number=""), name="requirement_number_not_empty"),
        ]
        indexes = [models.Index(fields=["plan", "level", "scope_code"], name="requirement_scope_idx")]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_level_display()} {self.scope_code})"


class SitingAssessment(models.Model):
    """One project siting assessment (项目选址研判): the site, the project and the stored verdict."""

    # A UUID, not a sequence: the public may run assessments and must not enumerate other people's sites.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="siting_assessments")
    geom = models.GeometryField(_("选址范围"), srid=settings.STORAGE_SRID)
    industry_code = models.CharField(_("行业代码"), max_length=8)
    project_type = models.CharField(_("建设性质"), max_length=16, choices=ProjectType.choices)
    verdict = models.CharField(_("研判结论"), max_length=16, choices=Verdict.choices)
    red_line = models.BooleanField(_("涉及生态保护红线"), default=False)
    # units, requirements and deciding clauses exactly as returned to the client.
    result = models.JSONField(_("研判结果"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("研判时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("选址研判")
        verbose_name_plural = _("选址研判")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=Verdict.values), name="siting_verdict_known"),
            models.CheckConstraint(condition=Q(project_type__in=ProjectType.values), name="siting_project_type_known"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.industry_code} {self.get_verdict_display()}"


class BottomLineTarget(models.Model):
    """One staged bottom-line target or resource cap of a plan (环境质量底线 / 资源利用上线) for a district or unit."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="bottom_lines")
    # The district's adcode or the unit's code, as in the imported file (范围编码).
    scope_code = models.CharField(_("范围编码"), max_length=64)
    # The responsible division (the district itself, or the unit's district).
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="bottom_lines")
    unit = models.ForeignKey(ControlUnit, null=True, blank=True, on_delete=models.CASCADE, related_name="bottom_lines")
    indicator = models.CharField(_("指标"), max_length=32, choices=BottomLineIndicator.choices)
    target_year = models.PositiveSmallIntegerField(_("目标年份"))
    # In the indicator's canonical unit (choices.BOTTOM_LINE_UNITS); water class as 1–5 (I–V).
    target_value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4)
    unit_label = models.CharField(_("单位"), max_length=16)
    # 点位或断面: a monitoring station / assessment section code; blank = every station in the scope.
    station_code = models.CharField(_("点位或断面"), max_length=64, blank=True)
    # True when the value is not a published target (示意): the demo's, or a planner's estimate.
    illustrative = models.BooleanField(_("示意值"), default=False)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("底线目标")
        verbose_name_plural = _("底线目标")
        ordering = ["plan", "scope_code", "indicator", "target_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "scope_code", "indicator", "station_code", "target_year"],
                name="bottom_line_target_unique",
            ),
            models.CheckConstraint(
                condition=Q(indicator__in=BottomLineIndicator.values), name="bottom_line_indicator_known"
            ),
            models.CheckConstraint(condition=Q(target_value__gte=0), name="bottom_line_value_non_negative"),
            models.CheckConstraint(
                condition=Q(target_year__gte=2000, target_year__lte=2100), name="bottom_line_year_range"
            ),
        ]
        indexes = [models.Index(fields=["plan", "division"], name="bottom_line_plan_division_idx")]

    def __str__(self) -> str:
        return f"{self.scope_code} {self.get_indicator_display()} {self.target_year} ≤/≥ {self.target_value}"


class ResourceStatistic(models.Model):
    """An imported annual statistic of a district (water use, energy use, construction land) measured against caps."""

    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="resource_statistics")
    indicator = models.CharField(_("指标"), max_length=32, choices=BottomLineIndicator.choices)
    year = models.PositiveSmallIntegerField(_("年份"))
    value = models.DecimalField(_("统计值"), max_digits=14, decimal_places=4)
    unit_label = models.CharField(_("单位"), max_length=16)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("资源利用统计")
        verbose_name_plural = _("资源利用统计")
        ordering = ["division", "indicator", "year"]
        constraints = [
            models.UniqueConstraint(fields=["division", "indicator", "year"], name="resource_statistic_unique"),
            models.CheckConstraint(
                condition=Q(indicator__in=["water_use", "energy_use", "construction_land"]),
                name="resource_statistic_indicator_cap",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="resource_statistic_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.division.name} {self.get_indicator_display()} {self.year}: {self.value}"


class PlanAttachment(models.Model):
    """A document filed with a plan version (批复文件, 备案回执 …)."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to="plans/%Y/")
    name = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("方案附件")
        verbose_name_plural = _("方案附件")
        ordering = ["plan", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class PlanUpdate(models.Model):
    """One entry of a plan's dynamic-update log (动态更新): what changed, why, by which document."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.CASCADE, related_name="updates")
    what = models.TextField(_("更新内容"))
    why = models.TextField(_("更新原因"), blank=True)
    document = models.CharField(_("依据文件"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("动态更新记录")
        verbose_name_plural = _("动态更新记录")
        ordering = ["plan", "at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(what=""), name="plan_update_what_not_empty")]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.at:%Y-%m-%d}: {self.what[:40]}"
