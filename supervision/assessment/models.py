import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from supervision.cases.models import AppendOnlyModel
from supervision.triggers import append_only, frozen_after
from supervision.zoning.models import AdministrativeDivision, BottomLineTarget, ZoningPlan

from .choices import IndicatorCode, OfficialRole, PeriodKind, ScorecardStatus, Subject, TrackingStatus

SCHEME_IN_USE_MESSAGE = "方案第 {version} 版已被已发布的考核结果使用，不能修改；请复制为新版本。"


class AssessmentScheme(models.Model):
    """One version of the assessment scheme (考核方案): which indicators count, with which weights."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    name = models.CharField(_("名称"), max_length=200)
    notes = models.TextField(_("说明"), blank=True)
    # Set when a published scorecard first uses this version; from then on it never changes.
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["-version"]
        constraints = [models.CheckConstraint(condition=Q(version__gte=1), name="scheme_version_positive")]

    def __str__(self) -> str:
        return f"{self.name}（第{self.version}版）"

    def save(self, *args, **kwargs):
        # The last line of defence behind the service and the admin (which already refuse).
        if self.pk is not None and not kwargs.pop("allow_locked", False):
            self.clean()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_mutable()
        return super().delete(*args, **kwargs)

    def clean(self):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values("version", "name", "notes").first()
            changed = stored and any(stored[k] != getattr(self, k) for k in stored)
            if changed:
                type(self).objects.get(pk=self.pk).ensure_mutable()

    def in_use(self) -> bool:
        """Used by a published (or superseded) scorecard: frozen for good."""
        if self.pk is None:
            return False
        return self.locked_at is not None or self.scorecards.exclude(status=ScorecardStatus.DRAFT).exists()

    def ensure_mutable(self) -> None:
        if self.in_use():
            raise ValidationError(SCHEME_IN_USE_MESSAGE.format(version=self.version), code="scheme_in_use")


class Indicator(models.Model):
    """One weighted indicator of a scheme; `params` holds its settings (e.g. the damage threshold in ha)."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("指标"), max_length=32, choices=IndicatorCode.choices)
    weight = models.DecimalField(_("权重（分）"), max_digits=5, decimal_places=2)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    params = models.JSONField(_("参数"), default=dict, blank=True)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["scheme", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="indicator_code_unique_in_scheme"),
            models.CheckConstraint(condition=Q(code__in=IndicatorCode.values), name="indicator_code_known"),
            models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=100), name="indicator_weight_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} {self.weight}"

    def save(self, *args, **kwargs):
        if self.scheme_id:
            self.scheme.ensure_mutable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.scheme.ensure_mutable()
        return super().delete(*args, **kwargs)

    def clean(self):
        if self.scheme_id:
            self.scheme.ensure_mutable()
        threshold = (self.params or {}).get("threshold_ha")
        if threshold is not None:
            try:
                ok = float(threshold) > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValidationError({"params": "threshold_ha 必须是正数（公顷）。"})


class Official(models.Model):
    """A named leader of a division (党委书记, 区长...) with a term of office; receives the division's scorecard."""

    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="officials")
    name = models.CharField(_("姓名"), max_length=64)
    role = models.CharField(_("职务"), max_length=32, choices=OfficialRole.choices)
    title = models.CharField(_("职务全称"), max_length=100, blank=True)
    term_start = models.DateField(_("任职开始"))
    term_end = models.DateField(_("任职结束"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("领导干部")
        verbose_name_plural = _("领导干部")
        ordering = ["division", "role", "term_start"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=OfficialRole.values), name="official_role_known"),
            models.CheckConstraint(
                condition=Q(term_end__isnull=True) | Q(term_end__gte=models.F("term_start")), name="official_term_order"
            ),
            models.UniqueConstraint(fields=["division", "role", "name", "term_start"], name="official_term_unique"),
        ]
        indexes = [models.Index(fields=["division", "term_start"], name="official_division_term_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.division.name} {self.title or self.get_role_display()}）"


class Scorecard(models.Model):
    """A division's score for one period under one scheme: a draft, then published (frozen), maybe corrected."""

    plan = models.ForeignKey(ZoningPlan, on_delete=models.PROTECT, related_name="scorecards")
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="scorecards")
    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.PROTECT, related_name="scorecards")
    period_kind = models.CharField(_("周期类型"), max_length=8, choices=PeriodKind.choices)
    period_code = models.CharField(_("考核周期"), max_length=8)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    status = models.CharField(_("状态"), max_length=16, choices=ScorecardStatus.choices, default=ScorecardStatus.DRAFT)
    # None only when no indicator of the scheme is applicable.
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=2, null=True, blank=True)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("更正对象")
    )
    correction_reason = models.TextField(_("更正理由"), blank=True)
    computed_at = models.DateTimeField(_("计算时间"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        ordering = ["plan", "period_start", "division", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "division", "period_code", "version"], name="scorecard_version_unique"
            ),
            # At most one draft and one published card per division and period: a re-run of
            # the compute task updates the draft instead of adding one.
            models.UniqueConstraint(
                fields=["plan", "division", "period_code"],
                condition=Q(status=ScorecardStatus.DRAFT),
                name="scorecard_one_draft_per_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "division", "period_code"],
                condition=Q(status=ScorecardStatus.PUBLISHED),
                name="scorecard_one_published_per_period",
            ),
            models.CheckConstraint(condition=Q(status__in=ScorecardStatus.values), name="scorecard_status_known"),
            models.CheckConstraint(condition=Q(period_kind__in=PeriodKind.values), name="scorecard_period_kind_known"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="scorecard_score_range"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="scorecard_period_order"
            ),
            models.CheckConstraint(
                condition=Q(version=1) | (Q(corrects__isnull=False) & ~Q(correction_reason="")),
                name="scorecard_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=ScorecardStatus.DRAFT) | Q(published_at__isnull=False),
                name="scorecard_published_has_time",
            ),
        ]
        indexes = [models.Index(fields=["plan", "period_code", "status"], name="scorecard_period_status_idx")]
        # A published card is the record: its score and what it was computed from never change
        # (a correction is a new version); only its status moves on (published → superseded).
        triggers = frozen_after(
            name="scorecard",
            flag=~pgtrigger.Q(old__status=ScorecardStatus.DRAFT),
            fields=[
                "plan",
                "division",
                "scheme",
                "period_kind",
                "period_code",
                "period_start",
                "period_end",
                "version",
                "score",
                "corrects",
                "correction_reason",
                "computed_at",
                "published_at",
            ],
        )

    def __str__(self) -> str:
        return f"{self.division.name} {self.period_code} v{self.version}（{self.get_status_display()}）"

    @property
    def is_frozen(self) -> bool:
        return self.status != ScorecardStatus.DRAFT


class ScorecardIndicator(models.Model):
    """One indicator's line on a scorecard: numerator, denominator, value, weight, points, and the lists behind them."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="lines")
    code = models.CharField(_("指标"), max_length=32, choices=IndicatorCode.choices)
    position = models.PositiveSmallIntegerField(default=0)
    subject = models.CharField(_("明细对象"), max_length=8, choices=Subject.choices)
    denominator_subject = models.CharField(_("分母明细对象"), max_length=8, choices=Subject.choices)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    numerator = models.DecimalField(_("分子"), max_digits=14, decimal_places=4)
    denominator = models.DecimalField(_("分母"), max_digits=14, decimal_places=4)
    applicable = models.BooleanField(_("适用"), default=True)
    # The ratio in [0, 1] (for the "1 − …" indicators, after the subtraction); None when not applicable.
    value = models.DecimalField(_("指标值"), max_digits=7, decimal_places=6, null=True, blank=True)
    weight = models.DecimalField(_("方案权重"), max_digits=5, decimal_places=2)
    # The weight after sharing out the weights of inapplicable indicators (Σ over applicable = 100).
    effective_weight = models.DecimalField(_("调整后权重"), max_digits=9, decimal_places=6)
    points = models.DecimalField(_("得分"), max_digits=9, decimal_places=4)
    # Frozen at publication: the ids of the leads/cases behind the numerator and denominator.
    numerator_ids = models.JSONField(_("分子明细"), null=True, blank=True)
    denominator_ids = models.JSONField(_("分母明细"), null=True, blank=True)

    class Meta:
        verbose_name = _("考核指标得分")
        verbose_name_plural = _("考核指标得分")
        ordering = ["scorecard", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "code"], name="scorecard_indicator_unique"),
            models.CheckConstraint(
                condition=Q(applicable=False, value__isnull=True) | Q(applicable=True, value__gte=0, value__lte=1),
                name="scorecard_indicator_value_range",
            ),
            models.CheckConstraint(
                condition=Q(points__gte=0, points__lte=100), name="scorecard_indicator_points_range"
            ),
        ]
        triggers = [
            # The lines of a published (or superseded) card are frozen with it.
            pgtrigger.Trigger(
                name="scorecard_line_frozen",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func=pgtrigger.Func(
                    "IF EXISTS (SELECT 1 FROM assessment_scorecard WHERE id = OLD.scorecard_id"
                    " AND status <> 'draft') THEN RAISE EXCEPTION"
                    " 'pgtrigger: lines of published scorecard % are frozen', OLD.scorecard_id"
                    " USING ERRCODE = 'restrict_violation'; END IF; RETURN COALESCE(NEW, OLD);"
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} {self.points}"


class ScorecardEvent(AppendOnlyModel):
    """One step of a scorecard (computed, published, superseded, corrected); append-only."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("考核结果记录")
        verbose_name_plural = _("考核结果记录")
        ordering = ["at", "id"]
        triggers = append_only()


class BottomLineStatus(models.Model):
    """A bottom-line target's status for one year or quarter (met / off track / insufficient data), with its numbers."""

    target = models.ForeignKey(BottomLineTarget, on_delete=models.CASCADE, related_name="statuses")
    period_kind = models.CharField(_("周期类型"), max_length=8, choices=PeriodKind.choices)
    period_code = models.CharField(_("跟踪周期"), max_length=8)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))
    # The last day the measurement covers (the period's end, or yesterday for a period under way).
    measured_until = models.DateField(_("统计截至"))
    status = models.CharField(_("状态"), max_length=20, choices=TrackingStatus.choices)
    # In the target's canonical unit; None when there is not enough data.
    measured_value = models.DecimalField(_("实测值"), max_digits=14, decimal_places=4, null=True, blank=True)
    target_value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4)
    # The numbers behind the status: valid days, days required, stations, good days, months sampled …
    details = models.JSONField(_("明细"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("计算时间"))
    # Counts status changes: a warning is sent once per change to off track (its key holds this number).
    changes = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(_("状态变化时间"))

    class Meta:
        verbose_name = _("底线目标跟踪")
        verbose_name_plural = _("底线目标跟踪")
        ordering = ["target", "period_start", "period_kind"]
        constraints = [
            models.UniqueConstraint(fields=["target", "period_code"], name="bottom_line_status_once_per_period"),
            models.CheckConstraint(condition=Q(status__in=TrackingStatus.values), name="bottom_line_status_known"),
            models.CheckConstraint(
                condition=Q(period_kind__in=[PeriodKind.YEAR, PeriodKind.QUARTER]), name="bottom_line_status_kind"
            ),
            models.CheckConstraint(
                condition=Q(status=TrackingStatus.INSUFFICIENT) | Q(measured_value__isnull=False),
                name="bottom_line_status_has_value",
            ),
        ]
        indexes = [models.Index(fields=["period_code", "status"], name="bottom_line_status_period_idx")]

    def __str__(self) -> str:
        return f"{self.target} {self.period_code}: {self.get_status_display()}"

    # The shape of a drill-down row (title, division, unit), shared with leads and cases.
    @property
    def title(self) -> str:
        t = self.target
        return f"{t.scope_code} {t.get_indicator_display()} {self.period_code}（目标 {t.target_year} 年）"

    @property
    def division(self) -> AdministrativeDivision:
        return self.target.division

    @property
    def unit(self):
        return self.target.unit

    @property
    def unit_id(self) -> int | None:
        return self.target.unit_id
