import django_filters
from django.utils import timezone

from .choices import CaseStatus, InspectionStatus, LeadSource, LeadStatus
from .models import Case, EnforcementTarget, Inspection, Lead
from .selectors import case_overdue_q, lead_overdue_q


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices)
    division = django_filters.CharFilter(field_name="division__adcode")
    unit = django_filters.CharFilter(field_name="unit__code")
    plan = django_filters.CharFilter(field_name="plan__code")
    target = django_filters.NumberFilter(field_name="target_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    detected_after = django_filters.IsoDateTimeFilter(field_name="detected_at", lookup_expr="gte")
    detected_before = django_filters.IsoDateTimeFilter(field_name="detected_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields = ["status", "source", "division", "unit", "plan", "target", "overdue"]

    def filter_overdue(self, qs, name, value):
        q = lead_overdue_q(timezone.now())
        return qs.filter(q) if value else qs.exclude(q)


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    division = django_filters.CharFilter(field_name="division__adcode")
    unit = django_filters.CharFilter(field_name="unit__code")
    plan = django_filters.CharFilter(field_name="plan__code")
    target = django_filters.NumberFilter(field_name="target_id")
    escalation_level = django_filters.NumberFilter(field_name="escalation_level", lookup_expr="gte")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    published = django_filters.BooleanFilter(field_name="published_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Case
        fields = ["status", "division", "unit", "plan", "target", "escalation_level", "overdue", "published"]

    def filter_overdue(self, qs, name, value):
        q = case_overdue_q(timezone.now())
        return qs.filter(q) if value else qs.exclude(q)


class TargetFilter(django_filters.FilterSet):
    division = django_filters.CharFilter(field_name="division__adcode")
    q = django_filters.CharFilter(method="filter_q")

    class Meta:
        model = EnforcementTarget
        fields = ["division", "permit_class", "industry_code"]

    def filter_q(self, qs, name, value):
        from django.db.models import Q

        return qs.filter(Q(name__icontains=value) | Q(credit_code__iexact=value))


class InspectionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InspectionStatus.choices)
    inspection_plan = django_filters.NumberFilter(field_name="inspection_plan_id")
    division = django_filters.CharFilter(field_name="division__adcode")
    mine = django_filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = Inspection
        fields = ["status", "inspection_plan", "division", "mine"]

    def filter_mine(self, qs, name, value):
        return qs.filter(inspectors=self.request.user) if value else qs
