from django.db import models
from django.utils.translation import gettext_lazy as _


class IndicatorCode(models.TextChoices):
    """The indicators the code knows how to compute (indicators.py); a scheme picks and weights them."""

    VERIFICATION_TIMELINESS = "verification_timeliness", _("线索核查及时率")
    RECTIFICATION_TIMELINESS = "rectification_timeliness", _("案件整改按期完成率")
    CLOSURE_RATE = "closure_rate", _("案件办结率")
    OVERDUE_BACKLOG = "overdue_backlog", _("逾期积案控制")
    REPEAT_VIOLATIONS = "repeat_violations", _("重复违法控制")
    PRIORITY_UNIT_DAMAGE = "priority_unit_damage", _("优先保护单元生态破坏控制")
    LEAD_BACKLOG = "lead_backlog", _("逾期未核查线索控制")
    REPEAT_OFFENDERS = "repeat_offenders", _("重复违法控制（按违法主体）")
    RED_LINE_INTEGRITY = "red_line_integrity", _("生态保护红线完整性")
    BOTTOM_LINE_ATTAINMENT = "bottom_line_attainment", _("环境质量底线达标率")


class Subject(models.TextChoices):
    """What a drill-down list holds."""

    LEAD = "lead", _("线索")
    CASE = "case", _("案件")
    BOTTOM_LINE = "target", _("底线目标跟踪")
    NONE = "none", _("无（常数）")


class PeriodKind(models.TextChoices):
    YEAR = "year", _("年度")
    QUARTER = "quarter", _("季度")
    MONTH = "month", _("月度")


class ScorecardStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已更正（被替代）")


# draft → published (frozen) → superseded (by a published correction, a new version).
SCORECARD_TRANSITIONS: dict[str, frozenset[str]] = {
    ScorecardStatus.DRAFT: frozenset({ScorecardStatus.PUBLISHED}),
    ScorecardStatus.PUBLISHED: frozenset({ScorecardStatus.SUPERSEDED}),
    ScorecardStatus.SUPERSEDED: frozenset(),
}


class OfficialRole(models.TextChoices):
    """Named leadership posts of a district (党政同责、一岗双责)."""

    PARTY_SECRETARY = "party_secretary", _("党委书记")
    GOVERNMENT_HEAD = "government_head", _("政府主要负责人（区长/县长/市长）")
    DEPUTY_PARTY_SECRETARY = "deputy_party_secretary", _("党委副书记")
    DEPUTY_HEAD_ENVIRONMENT = "deputy_head_environment", _("分管生态环境副职（副区长/副县长/副市长）")
    ENVIRONMENT_BUREAU_HEAD = "environment_bureau_head", _("生态环境分局局长")
    OTHER = "other", _("其他")


class DrillSide(models.TextChoices):
    NUMERATOR = "numerator", _("分子")
    DENOMINATOR = "denominator", _("分母")


class TrackingStatus(models.TextChoices):
    """A bottom-line target's status for one year or quarter."""

    MET = "met", _("达标")
    OFF_TRACK = "off_track", _("未达标")
    INSUFFICIENT = "insufficient_data", _("数据不足")
