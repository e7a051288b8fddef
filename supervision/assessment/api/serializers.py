from rest_framework import serializers

from supervision.assessment.officials import official_title

from ..choices import IndicatorCode, ScorecardStatus
from ..models import AssessmentScheme, Indicator, Scorecard, ScorecardIndicator


class IndicatorSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_code_display")

    class Meta:
        model = Indicator
        fields = ["code", "label", "weight", "position", "params"]


class SchemeSerializer(serializers.ModelSerializer):
    indicators = IndicatorSerializer(many=True)
    in_use = serializers.SerializerMethodField()

    class Meta:
        model = AssessmentScheme
        fields = ["version", "name", "notes", "locked_at", "in_use", "indicators"]

    def get_in_use(self, obj) -> bool:
        return obj.in_use()


class ScorecardLineSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_code_display")

    class Meta:
        model = ScorecardIndicator
        fields = [
            "code",
            "label",
            "subject",
            "denominator_subject",
            "numerator",
            "denominator",
            "applicable",
            "value",
            "weight",
            "effective_weight",
            "points",
            "params",
        ]


class ScorecardSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code")
    division = serializers.CharField(source="division.adcode")
    division_name = serializers.CharField(source="division.name")
    scheme_version = serializers.IntegerField(source="scheme.version")
    indicators = ScorecardLineSerializer(source="lines", many=True)

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "plan",
            "division",
            "division_name",
            "period_kind",
            "period_code",
            "period_start",
            "period_end",
            "version",
            "status",
            "score",
            "scheme_version",
            "corrects",
            "correction_reason",
            "computed_at",
            "published_at",
            "indicators",
        ]


class PeriodQuerySerializer(serializers.Serializer):
    plan = serializers.CharField()
    period = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[ScorecardStatus.PUBLISHED, ScorecardStatus.DRAFT], default=ScorecardStatus.PUBLISHED
    )


class ExportQuerySerializer(PeriodQuerySerializer):
    # Not "format": DRF reserves that query parameter for its renderers.
    file_format = serializers.ChoiceField(choices=["csv", "xlsx"], default="xlsx")


class ComputeInputSerializer(serializers.Serializer):
    plan = serializers.CharField()
    period = serializers.CharField()
    scheme = serializers.IntegerField(required=False, min_value=1, help_text="scheme version; default: the newest")
    run_async = serializers.BooleanField(default=False, help_text="queue the Celery task and return 202")


class CorrectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RankRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    scorecard = serializers.IntegerField(source="scorecard.id")
    division = serializers.CharField(source="scorecard.division.adcode")
    division_name = serializers.CharField(source="scorecard.division.name")
    score = serializers.DecimalField(source="scorecard.score", max_digits=5, decimal_places=2, allow_null=True)
    status = serializers.CharField(source="scorecard.status")
    version = serializers.IntegerField(source="scorecard.version")


class OfficialShareSerializer(serializers.Serializer):
    official = serializers.IntegerField(source="official.id")
    name = serializers.CharField(source="official.name")
    role = serializers.CharField(source="official.role")
    title = serializers.SerializerMethodField()
    division = serializers.CharField(source="official.division.adcode")
    division_name = serializers.CharField(source="official.division.name")
    term_start = serializers.DateField(source="official.term_start")
    term_end = serializers.DateField(source="official.term_end", allow_null=True)
    scorecard = serializers.IntegerField(source="scorecard.id")
    division_score = serializers.DecimalField(source="scorecard.score", max_digits=5, decimal_places=2, allow_null=True)
    overlap_days = serializers.IntegerField()
    period_days = serializers.IntegerField()
    share = serializers.DecimalField(max_digits=5, decimal_places=4)
    attributed_score = serializers.DecimalField(max_digits=5, decimal_places=2)

    def get_title(self, obj) -> str:
        o = obj.official
        return o.title or official_title(role=o.role, division_name=o.division.name, division_kind=o.division.kind)


class DrillRowSerializer(serializers.Serializer):
    """A lead or case behind a number (the same shape for both)."""

    id = serializers.IntegerField()
    number = serializers.CharField(required=False, default="")
    title = serializers.CharField()
    status = serializers.CharField()
    division = serializers.CharField(source="division.adcode")
    unit = serializers.SerializerMethodField()
    opened_at = serializers.DateTimeField(required=False)
    rectification_due_at = serializers.DateTimeField(required=False, allow_null=True)
    accepted_at = serializers.DateTimeField(required=False, allow_null=True)
    verification_due_at = serializers.DateTimeField(required=False, allow_null=True)
    concluded_at = serializers.DateTimeField(required=False, allow_null=True)
    area_m2 = serializers.FloatField(required=False, allow_null=True)

    def get_unit(self, obj) -> str | None:
        return obj.unit.code if obj.unit_id else None


INDICATOR_CODES = IndicatorCode.values


class BottomLineStatusSerializer(serializers.Serializer):
    """A target's status for a year or quarter, with the target and the numbers behind it."""

    id = serializers.IntegerField()
    division = serializers.CharField(source="target.division.adcode")
    division_name = serializers.CharField(source="target.division.name")
    scope_code = serializers.CharField(source="target.scope_code")
    station_code = serializers.CharField(source="target.station_code")
    indicator = serializers.CharField(source="target.indicator")
    indicator_label = serializers.CharField(source="target.get_indicator_display")
    target_year = serializers.IntegerField(source="target.target_year")
    target_value = serializers.DecimalField(max_digits=14, decimal_places=4)
    unit = serializers.CharField(source="target.unit_label")
    illustrative = serializers.BooleanField(source="target.illustrative")
    period_kind = serializers.CharField()
    period_code = serializers.CharField()
    measured_until = serializers.DateField()
    status = serializers.CharField()
    measured_value = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    details = serializers.JSONField()
    changed_at = serializers.DateTimeField()


class BottomLineQuerySerializer(serializers.Serializer):
    plan = serializers.CharField()
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    period = serializers.CharField(required=False, help_text="2025 or 2025-Q3")
    division = serializers.RegexField(r"^\d{6}$", required=False)


class TrackInputSerializer(serializers.Serializer):
    plan = serializers.CharField()
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)


class ReportQuerySerializer(serializers.Serializer):
    plan = serializers.CharField()
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    # Not "format": DRF reserves that query parameter for its renderers.
    file_format = serializers.ChoiceField(choices=["json", "xlsx"], default="json")
