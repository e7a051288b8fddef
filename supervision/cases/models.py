import pgtrigger
from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from supervision.triggers import append_only, frozen_after
from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

from .choices import (
    CASE_RECTIFYING_STATUSES,
    LEAD_VERIFYING_STATUSES,
    MAX_ESCALATION_LEVEL,
    CaseEventKind,
    CaseStatus,
    ChecklistResult,
    DayKind,
    DismissReason,
    EvidenceKind,
    EvidenceStatus,
    InspectionPlanStatus,
    InspectionStatus,
    LeadEventKind,
    LeadSource,
    LeadStatus,
    NotificationKind,
    PermitClass,
)
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
    target = models.ForeignKey(
        EnforcementTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    reason = models.TextField(_("生成原因"), blank=True)
    geom = models.GeometryField(_("位置"), srid=settings.STORAGE_SRID)
    area_m2 = models.FloatField(_("面积（平方米）"), null=True, blank=True)
    change_class = models.PositiveSmallIntegerField(_("变化类型"), null=True, blank=True)
    layer_ref = models.CharField(_("遥感图层"), max_length=200, blank=True)
    evidence = models.JSONField(_("证据数据"), default=dict, blank=True)
    # A scan's chips are rendered after its leads are committed: pending until then.
    evidence_status = models.CharField(
        _("证据图件"), max_length=8, choices=EvidenceStatus.choices, default=EvidenceStatus.READY
    )
    detections = models.PositiveIntegerField(_("检出次数"), default=1)
    detected_at = models.DateTimeField(_("首次发现时间"))
    last_detected_at = models.DateTimeField(_("最近发现时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The person who handles it (经办人), within its division; the division stays responsible.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_leads"
    )
    # Workflow columns: written only by services.leads through transition_to; the
    # assessment reads them as SQL aggregates (verification timeliness).
    dispatched_at = models.DateTimeField(_("派发时间"), null=True, blank=True)
    verification_due_at = models.DateTimeField(_("核查期限"), null=True, blank=True)
    verification_day_kind = models.CharField(_("期限计算方式"), max_length=8, choices=DayKind.choices, blank=True)
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    dismiss_code = models.CharField(_("不属实原因"), max_length=16, choices=DismissReason.choices, blank=True)
    dismiss_reason = models.TextField(_("不属实说明"), blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_leads"
    )
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
            models.CheckConstraint(
                condition=Q(evidence_status__in=EvidenceStatus.values), name="lead_evidence_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=LEAD_VERIFYING_STATUSES) | Q(verification_due_at__isnull=False),
                name="lead_verifying_has_deadline",
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.DISMISSED) | ~Q(dismiss_reason=""), name="lead_dismissed_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.MERGED) | Q(merged_into__isnull=False), name="lead_merged_has_target"
            ),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="lead_not_merged_into_itself"),
        ]
        indexes = [
            models.Index(fields=["division", "status"], name="lead_division_status_idx"),
            models.Index(fields=["plan", "source", "status"], name="lead_plan_source_status_idx"),
            # The reminder/overdue sweep reads only leads whose verification clock runs.
            models.Index(
                fields=["verification_due_at"],
                name="lead_verif_due_open_idx",
                condition=Q(status__in=LEAD_VERIFYING_STATUSES),
            ),
            models.Index(fields=["division", "verification_due_at"], name="lead_division_verif_due_idx"),
            # The lead list's order (Meta.ordering): a page is read off the index, not sorted from all leads.
            models.Index(fields=["-detected_at", "-id"], name="lead_list_order_idx"),
            # The chip sweep reads only the few leads whose chips are still coming.
            models.Index(
                fields=["layer_ref"], name="lead_evidence_pending_idx", condition=Q(evidence_status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def _scan_words(self) -> dict | None:
        """For a scan lead read in another language than Chinese: the parts its title and reason are built from.

        A scan writes its leads' title and reason in Chinese (stored data, whoever started
        the scan); pages show them in the reader's language, rebuilt from the evidence.
        """
        from django.utils.translation import get_language

        ev = self.evidence or {}
        if (get_language() or "zh-hans").startswith("zh") or "patch_key" not in ev or "unit_class" not in ev:
            return None
        from supervision.zoning.choices import UnitClass

        from .choices import ChangeClass

        code = int(ev.get("change_class") or 0)
        change = str(ChangeClass(code).label) if code in ChangeClass.values else str(ev.get("change_class_name", ""))
        unit_class = UnitClass(ev["unit_class"]).label if ev["unit_class"] in UnitClass.values else ev["unit_class"]
        return {
            "change": change,
            "change_lower": change.lower(),
            "unit_class": str(unit_class),
            "code": ev.get("unit_code", ""),
            "area": f"{float(ev.get('area_m2') or 0):,.0f}",
            "min_area": f"{float(ev.get('min_area_m2') or 0):,.0f}",
            "layer": ev.get("layer_id", ""),
            "layer_name": ev.get("layer_name", ""),
        }

    @property
    def display_title(self) -> str:
        """The title in the reader's language (a scan lead's is rebuilt from its evidence)."""
        from django.utils.translation import gettext

        words = self._scan_words()
        if words is None:
            return self.title
        return gettext("%(change)s patch in %(code)s (%(area)s m²)") % words

    @property
    def display_reason(self) -> str:
        """The reason in the reader's language (a scan lead's is rebuilt from its evidence)."""
        from django.utils.translation import gettext

        words = self._scan_words()
        if words is None:
            return self.reason
        return (
            gettext(
                "Change layer #%(layer)s (%(layer_name)s) found a patch of %(change_lower)s in %(unit_class)s "
                "%(code)s: %(area)s m² inside the unit, at least %(min_area)s m²; %(change_lower)s in a "
                "%(unit_class)s must be verified on site."
            )
            % words
        )

    def is_overdue(self, now=None) -> bool:
        """Derived, never stored: the verification clock runs and its deadline has passed."""
        from django.utils import timezone

        now = now or timezone.now()
        return bool(
            self.status in LEAD_VERIFYING_STATUSES and self.verification_due_at and self.verification_due_at < now
        )


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
    if instance.lead_id:
        return f"evidence/lead-{instance.lead_id}/{filename}"
    return f"evidence/case-{instance.case_id}/{filename}"


class Evidence(models.Model):
    """A file attached to a lead or a case (and to the event it came with): image chip, photo, PDF."""

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence_files")
    case = models.ForeignKey("Case", null=True, blank=True, on_delete=models.CASCADE, related_name="evidence_files")
    lead_event = models.ForeignKey(
        "LeadEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    case_event = models.ForeignKey(
        "CaseEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)
    file = models.FileField(upload_to=evidence_upload_to)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    caption = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead__isnull=False, case__isnull=True) | Q(lead__isnull=True, case__isnull=False),
                name="evidence_on_lead_xor_case",
            ),
        ]


class AppendOnlyModel(models.Model):
    """An audit row: written once, never changed or deleted through the ORM instance."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are append-only.")


class TransitionEvent(AppendOnlyModel):
    """The columns every workflow event shares: from, to, actor, at, comment."""

    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]
        # Inherited by subclasses that declare no Meta; the others list it themselves.
        triggers = append_only()

    @property
    def display_comment(self) -> str:
        """The comment in the reader's language where the system wrote it (see CaseEvent)."""
        return self.comment


class LeadEvent(TransitionEvent):
    """One step in a lead's history (from, to, actor, at, comment); append-only."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=LeadEventKind.choices, default=LeadEventKind.TRANSITION)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("线索记录")
        verbose_name_plural = _("线索记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="lead_event_lead_at_idx")]
        triggers = append_only()

    @property
    def display_comment(self) -> str:
        """The comment in the reader's language: a lead's creation note is its reason (see Lead.display_reason)."""
        if not self.from_status and self.comment and self.comment == self.lead.reason[:2000]:
            return self.lead.display_reason
        return self.comment


class UserProfile(models.Model):
    """A user's scope: one division (district adcode), or the whole city."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    division = models.ForeignKey(
        AdministrativeDivision, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    city_wide = models.BooleanField(_("全市范围"), default=False)

    class Meta:
        verbose_name = _("用户范围")
        verbose_name_plural = _("用户范围")
        constraints = [
            models.CheckConstraint(
                condition=Q(city_wide=True, division__isnull=True) | Q(city_wide=False, division__isnull=False),
                name="profile_division_xor_city_wide",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({'全市' if self.city_wide else self.division})"


class ApiToken(models.Model):
    """A user's API token: only the SHA-256 digest of its key is stored, found by the key's prefix."""

    # One token per user: issuing a new one replaces it (rotation, services.tokens).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    # The key's first characters: not secret (a few bits of a 256-bit key), indexed for the lookup,
    # shown in the admin so a token can be named without the key.
    prefix = models.CharField(_("前缀"), max_length=8, db_index=True)
    # Hex SHA-256 of the whole key. No salt or slow hash is needed: keys are random, not passwords.
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    created = models.DateTimeField(_("签发时间"))

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        constraints = [
            models.CheckConstraint(condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="api_token_digest_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class Case(models.Model):
    """A case (案件) opened from a confirmed lead: rectification within a deadline, then acceptance."""

    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="case")
    number = models.CharField(_("案件编号"), max_length=32, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    status = models.CharField(_("状态"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.OPENED)
    plan = models.ForeignKey(ZoningPlan, on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(ControlUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="cases")
    target = models.ForeignKey(EnforcementTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    # The person who handles it (经办人), within its division.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )
    opened_at = models.DateTimeField(_("立案时间"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rectification_requirements = models.TextField(_("整改要求"), blank=True)
    rectification_ordered_at = models.DateTimeField(_("责令整改时间"), null=True, blank=True)
    rectification_due_at = models.DateTimeField(_("整改期限"), null=True, blank=True)
    rectification_day_kind = models.CharField(_("期限计算方式"), max_length=8, choices=DayKind.choices, blank=True)
    submitted_at = models.DateTimeField(_("整改提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("验收销号时间"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    escalated_at = models.DateTimeField(_("最近督办时间"), null=True, blank=True)
    penalty_amount_yuan = models.DecimalField(
        _("罚款金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    penalty_legal_basis = models.TextField(_("处罚依据"), blank=True)
    penalty_decided_at = models.DateTimeField(_("处罚决定时间"), null=True, blank=True)
    police_transferred_at = models.DateTimeField(_("移送公安时间"), null=True, blank=True)
    police_agency = models.CharField(_("接收公安机关"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("典型案例曝光时间"), null=True, blank=True)
    public_summary = models.TextField(_("曝光摘要"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status_known"),
            models.CheckConstraint(
                condition=Q(escalation_level__gte=0, escalation_level__lte=MAX_ESCALATION_LEVEL),
                name="case_escalation_level_range",
            ),
            models.CheckConstraint(
                condition=Q(status=CaseStatus.OPENED) | Q(rectification_due_at__isnull=False),
                name="case_ordered_has_deadline",
            ),
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.ACCEPTED) | Q(accepted_at__isnull=False),
                name="case_accepted_has_time",
            ),
            models.CheckConstraint(
                condition=Q(penalty_amount_yuan__isnull=True) | Q(penalty_amount_yuan__gt=0),
                name="case_penalty_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["division", "status"], name="case_division_status_idx"),
            models.Index(fields=["division", "opened_at"], name="case_division_opened_idx"),
            models.Index(fields=["division", "rectification_due_at"], name="case_division_due_idx"),
            # The overdue sweep: only cases whose clock runs and that can still be escalated
            # are in this index, so a sweep over 1,000,000 cases reads just the overdue ones.
            models.Index(
                fields=["rectification_due_at"],
                name="case_rect_due_open_idx",
                condition=Q(status__in=CASE_RECTIFYING_STATUSES, escalation_level__lt=MAX_ESCALATION_LEVEL),
            ),
            # "Was a case in this unit accepted in the 365 days before?" (assessment's repeat
            # violations): one probe per case instead of a scan of the unit's every case.
            models.Index(
                fields=["unit", "accepted_at"],
                name="case_unit_accepted_idx",
                condition=Q(accepted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def is_overdue(self, now=None) -> bool:
        """Derived, never stored: the rectification clock runs and its deadline has passed."""
        from django.utils import timezone

        now = now or timezone.now()
        return bool(
            self.status in CASE_RECTIFYING_STATUSES and self.rectification_due_at and self.rectification_due_at < now
        )


class CaseEvent(TransitionEvent):
    """One step in a case's history (from, to, actor, at, comment); append-only."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=CaseEventKind.choices, default=CaseEventKind.TRANSITION)
    from_status = models.CharField(max_length=24)
    to_status = models.CharField(max_length=24)  # case statuses are longer than the base's 16
    escalation_level = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("案件记录")
        verbose_name_plural = _("案件记录")
        ordering = ["at", "id"]
        constraints = [
            # One escalation event per case and level: a re-run of the sweep cannot double it.
            models.UniqueConstraint(
                fields=["case", "escalation_level"],
                condition=Q(kind=CaseEventKind.ESCALATION),
                name="case_event_one_escalation_per_level",
            ),
        ]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at_idx")]
        triggers = append_only()

    @property
    def display_comment(self) -> str:
        """The comment in the reader's language: notes the system wrote are rebuilt from `data`.

        The stored `comment` of a case opened from a lead or of an escalation is Chinese
        (written by the services, whatever the language of the request that caused it);
        pages show the same note in the language of whoever reads it.
        """
        from datetime import datetime

        from django.utils.translation import gettext

        data = self.data or {}
        if self.kind == CaseEventKind.ESCALATION and data.get("due_at") and self.escalation_level:
            labels = {1: gettext("Supervised"), 2: gettext("Key supervision"), 3: gettext("Listed supervision")}
            days = (self.at - datetime.fromisoformat(data["due_at"])).days
            return gettext("%(days)s days overdue, %(label)s") % {
                "days": days,
                "label": labels.get(self.escalation_level, str(self.escalation_level)),
            }
        if not self.from_status and self.to_status == CaseStatus.OPENED and data.get("lead"):
            return gettext("Opened from lead #%(lead)s") % {"lead": data["lead"]}
        return self.comment


class Notification(models.Model):
    """One message in a user's in-app inbox, also sent by email once; keyed so it is never sent twice."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    # Natural key of the occasion, e.g. "case:12:overdue:2025-03-01T15:59:59+00:00".
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    inspection = models.ForeignKey(
        "Inspection", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_unique_per_recipient"),
            models.CheckConstraint(condition=Q(kind__in=NotificationKind.values), name="notification_kind_known"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx"),
            models.Index(fields=["created_at"], name="notification_unsent_idx", condition=Q(emailed_at__isnull=True)),
        ]


class InspectionPlan(models.Model):
    """A double-random inspection plan (双随机): a division, a period, a reproducible draw."""

    name = models.CharField(_("名称"), max_length=200)
    zoning_plan = models.ForeignKey(ZoningPlan, on_delete=models.PROTECT, related_name="inspection_plans")
    # None: a city-wide programme drawing from every target.
    division = models.ForeignKey(
        AdministrativeDivision, null=True, blank=True, on_delete=models.PROTECT, related_name="inspection_plans"
    )
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))
    target_count = models.PositiveIntegerField(_("抽取对象数"))
    inspectors_per_target = models.PositiveSmallIntegerField(_("每对象检查人员数"), default=2)
    avoidance = models.BooleanField(_("回避本辖区检查人员"), default=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=InspectionPlanStatus.choices, default=InspectionPlanStatus.DRAFT
    )
    # Everything needed to re-run the draw: random.Random(seed) over these sorted pools.
    seed = models.BigIntegerField(_("随机种子"))
    target_pool = models.JSONField(_("对象库"), default=list, blank=True)
    inspector_pool = models.JSONField(_("检查人员库"), default=list, blank=True)
    draw_result = models.JSONField(_("抽取结果"), default=list, blank=True)
    algorithm = models.CharField(max_length=64, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("双随机抽查计划")
        verbose_name_plural = _("双随机抽查计划")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="inspection_plan_period_order"
            ),
            models.CheckConstraint(condition=Q(target_count__gte=1), name="inspection_plan_draws_some"),
            models.CheckConstraint(condition=Q(inspectors_per_target__gte=1), name="inspection_plan_inspectors_some"),
            models.CheckConstraint(
                condition=Q(status__in=InspectionPlanStatus.values), name="inspection_plan_status_known"
            ),
        ]
        # The draw (seed, pools, result) is the published record of 双随机: fixed once drawn.
        triggers = frozen_after(
            name="draw",
            flag=pgtrigger.Q(old__drawn_at__isnull=False),
            fields=["seed", "target_pool", "inspector_pool", "draw_result", "algorithm", "drawn_at"],
        )

    def __str__(self) -> str:
        return self.name


class InspectionPlanEvent(TransitionEvent):
    """One status change of an inspection plan (drawn, published); append-only."""

    inspection_plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="events")


class Inspection(models.Model):
    """One inspection of a target (检查记录), drawn by a plan, with its checklist."""

    inspection_plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="inspections")
    target = models.ForeignKey(EnforcementTarget, on_delete=models.PROTECT, related_name="inspections")
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="inspections")
    unit = models.ForeignKey(ControlUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="inspections")
    draw_order = models.PositiveIntegerField()
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="inspections", blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=InspectionStatus.choices, default=InspectionStatus.ASSIGNED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    checklist_source = models.CharField(_("检查表来源"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("检查记录")
        verbose_name_plural = _("检查记录")
        ordering = ["inspection_plan", "draw_order"]
        constraints = [
            models.UniqueConstraint(fields=["inspection_plan", "target"], name="inspection_target_once_per_plan"),
            models.UniqueConstraint(fields=["inspection_plan", "draw_order"], name="inspection_draw_order_unique"),
            models.CheckConstraint(condition=Q(status__in=InspectionStatus.values), name="inspection_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_plan} #{self.draw_order} {self.target}"


class InspectionEvent(TransitionEvent):
    """One status change of an inspection; append-only."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="events")


class ChecklistItem(models.Model):
    """One line of an inspection's checklist: a requirement, its result and the lead a failure raised."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    requirement_number = models.CharField(_("条款编号"), max_length=64, blank=True)
    dimension = models.CharField(_("维度"), max_length=64, blank=True)
    text = models.TextField(_("检查内容"))
    result = models.CharField(_("结果"), max_length=8, choices=ChecklistResult.choices, default=ChecklistResult.PENDING)
    note = models.TextField(_("说明"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="checklist_items")
    # Where the inspector's device was when the item was recorded (WGS84, navigator.geolocation).
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    accuracy_m = models.FloatField(_("定位精度（米）"), null=True, blank=True)
    located_at = models.DateTimeField(_("定位时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("检查项")
        verbose_name_plural = _("检查项")
        ordering = ["inspection", "position"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "position"], name="checklist_item_position_unique"),
            models.CheckConstraint(condition=Q(result__in=ChecklistResult.values), name="checklist_result_known"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="checklist_item_position_valid",
            ),
            models.CheckConstraint(
                condition=Q(accuracy_m__isnull=True) | Q(accuracy_m__gte=0), name="checklist_item_accuracy_positive"
            ),
        ]
