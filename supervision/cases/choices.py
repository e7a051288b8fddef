from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadSource(models.TextChoices):
    REMOTE_SENSING = "remote_sensing", _("卫星遥感")
    MONITORING = "monitoring", _("在线监测")
    COMPLAINT = "complaint", _("信访举报")
    HOTLINE = "hotline_12369", _("12369热线")
    INSPECTION = "inspection", _("日常检查")
    HIGHER_INSPECTION = "higher_inspection", _("督察移交")
    CEMS = "cems", _("在线监测")


class LeadStatus(models.TextChoices):
    NEW = "new", _("新线索")
    DISPATCHED = "dispatched", _("已派发")
    VERIFYING = "verifying", _("核查中")
    DISMISSED = "dismissed", _("不属实")
    MERGED = "merged", _("已合并")
    CONFIRMED = "confirmed", _("属实立案")


LEAD_OPEN_STATUSES = frozenset({LeadStatus.NEW, LeadStatus.DISPATCHED, LeadStatus.VERIFYING})


class ChangeClass(models.IntegerChoices):
    VEGETATION_LOSS = 1, _("植被损失")
    NEW_CONSTRUCTION = 2, _("新增建设")
    WATER_CHANGE = 3, _("水体变化")
    EXCAVATION = 4, _("挖损/裸土")


class PermitClass(models.TextChoices):
    KEY = "key", _("重点管理")
    SIMPLIFIED = "simplified", _("简化管理")
    REGISTRATION = "registration", _("登记管理")


class EvidenceKind(models.TextChoices):
    CHIP = "chip", _("遥感切片")
    PHOTO = "photo", _("现场照片")
    DOCUMENT = "document", _("文件")


# --- Lead workflow -----------------------------------------------------------------------
# new → dispatched (division + verification deadline) → verifying → dismissed | merged | confirmed
LEAD_TRANSITIONS: dict[str, frozenset[str]] = {
    LeadStatus.NEW: frozenset({LeadStatus.DISPATCHED}),
    LeadStatus.DISPATCHED: frozenset({LeadStatus.VERIFYING}),
    LeadStatus.VERIFYING: frozenset({LeadStatus.DISMISSED, LeadStatus.MERGED, LeadStatus.CONFIRMED}),
    LeadStatus.DISMISSED: frozenset(),
    LeadStatus.MERGED: frozenset(),
    LeadStatus.CONFIRMED: frozenset(),
}
# The verification clock runs in these statuses (partial index on verification_due_at).
LEAD_VERIFYING_STATUSES = (LeadStatus.DISPATCHED, LeadStatus.VERIFYING)
LEAD_CONCLUDED_STATUSES = (LeadStatus.DISMISSED, LeadStatus.MERGED, LeadStatus.CONFIRMED)
# Sources a person can file through the create endpoint (the scans use lead_raise).
LEAD_MANUAL_SOURCES = (
    LeadSource.COMPLAINT,
    LeadSource.HOTLINE,
    LeadSource.INSPECTION,
    LeadSource.HIGHER_INSPECTION,
    LeadSource.MONITORING,
)


class DismissReason(models.TextChoices):
    """Coded reasons a lead is found not to be a violation (不属实)."""

    NO_CHANGE = "no_change", _("现场无变化")
    APPROVED = "approved", _("已依法审批")
    NATURAL = "natural", _("自然或季节性变化")
    ALREADY_HANDLED = "already_handled", _("已处理")
    DATA_ERROR = "data_error", _("数据错误")
    OTHER = "other", _("其他")


# --- Case workflow -----------------------------------------------------------------------
class CaseStatus(models.TextChoices):
    OPENED = "opened", _("已立案")
    RECTIFICATION_ORDERED = "rectification_ordered", _("责令限期整改")
    RECTIFICATION_SUBMITTED = "rectification_submitted", _("整改已提交")
    RETURNED = "returned", _("退回整改")
    ACCEPTED = "accepted", _("整改验收销号")


CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPENED: frozenset({CaseStatus.RECTIFICATION_ORDERED}),
    CaseStatus.RECTIFICATION_ORDERED: frozenset({CaseStatus.RECTIFICATION_SUBMITTED}),
    CaseStatus.RECTIFICATION_SUBMITTED: frozenset({CaseStatus.ACCEPTED, CaseStatus.RETURNED}),
    # Returned: the target resubmits, or the officer orders again with a new deadline.
    CaseStatus.RETURNED: frozenset({CaseStatus.RECTIFICATION_SUBMITTED, CaseStatus.RECTIFICATION_ORDERED}),
    CaseStatus.ACCEPTED: frozenset(),
}
# The rectification clock runs in these statuses: overdue = here and past rectification_due_at.
CASE_RECTIFYING_STATUSES = (CaseStatus.RECTIFICATION_ORDERED, CaseStatus.RETURNED)
CASE_OPEN_STATUSES = (
    CaseStatus.OPENED,
    CaseStatus.RECTIFICATION_ORDERED,
    CaseStatus.RECTIFICATION_SUBMITTED,
    CaseStatus.RETURNED,
)
# 1 = 督办 (on becoming overdue), 2 = 重点督办, 3 = 挂牌督办 (the highest).
MAX_ESCALATION_LEVEL = 3


class CaseEventKind(models.TextChoices):
    TRANSITION = "transition", _("状态变更")
    ESCALATION = "escalation", _("督办")
    PENALTY = "penalty", _("行政处罚")
    POLICE_TRANSFER = "police_transfer", _("移送公安")
    PUBLICATION = "publication", _("典型案例曝光")
    ATTACHMENT = "attachment", _("补充材料")


class LeadEventKind(models.TextChoices):
    TRANSITION = "transition", _("状态变更")
    ATTACHMENT = "attachment", _("补充材料")
    MERGED_IN = "merged_in", _("并入线索")


class DayKind(models.TextChoices):
    CALENDAR = "calendar", _("自然日")
    WORKING = "working", _("工作日")


# --- Roles ---------------------------------------------------------------------------------
class Role(models.TextChoices):
    """Django groups; a user's division scope lives in their UserProfile."""

    ENFORCEMENT_OFFICER = "enforcement_officer", _("执法人员")
    INSPECTOR = "inspector", _("检查人员")
    ASSESSOR = "assessor", _("考核人员")
    PLANNER = "planner", _("规划人员")
    BUREAU_ADMIN = "bureau_admin", _("局管理员")


# --- Notifications ---------------------------------------------------------------------------
class NotificationKind(models.TextChoices):
    DISPATCHED = "dispatched", _("线索派发")
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已逾期")
    ESCALATED = "escalated", _("督办")
    INSPECTION_ASSIGNED = "inspection_assigned", _("检查任务")
    BOTTOM_LINE = "bottom_line", _("底线目标预警")


# --- Inspections (双随机) --------------------------------------------------------------------
class InspectionPlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    DRAWN = "drawn", _("已抽取")
    PUBLISHED = "published", _("已公开")


INSPECTION_PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    InspectionPlanStatus.DRAFT: frozenset({InspectionPlanStatus.DRAWN}),
    InspectionPlanStatus.DRAWN: frozenset({InspectionPlanStatus.PUBLISHED}),
    InspectionPlanStatus.PUBLISHED: frozenset(),
}


class InspectionStatus(models.TextChoices):
    ASSIGNED = "assigned", _("已分派")
    IN_PROGRESS = "in_progress", _("检查中")
    COMPLETED = "completed", _("已完成")


INSPECTION_TRANSITIONS: dict[str, frozenset[str]] = {
    InspectionStatus.ASSIGNED: frozenset({InspectionStatus.IN_PROGRESS}),
    InspectionStatus.IN_PROGRESS: frozenset({InspectionStatus.COMPLETED}),
    InspectionStatus.COMPLETED: frozenset(),
}


class ChecklistResult(models.TextChoices):
    PENDING = "pending", _("未检查")
    PASS = "pass", _("符合")
    FAIL = "fail", _("不符合")
    NOTE = "note", _("备注")
