import django_filters
from django.contrib.gis.geos import Polygon
from django.utils import timezone

from supervision.api_input import IsoDateTimeFilter
from supervision.zoning.filters import _floats, _srid, to_storage

from .choices import CaseStatus, ChangeClass, InspectionStatus, LeadSource, LeadStatus
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
    detected_after = IsoDateTimeFilter(field_name="detected_at", lookup_expr="gte")
    detected_before = IsoDateTimeFilter(field_name="detected_at", lookup_expr="lt")
    # `class` (the change class of a scan lead, 1-4) is a Python keyword: aliased in __init__.
    change_class = django_filters.TypedChoiceFilter(field_name="change_class", choices=ChangeClass.choices, coerce=int)
    bbox = django_filters.CharFilter(method="filter_bbox", label="minx,miny,maxx,maxy (srid, default 4326)")
    srid = django_filters.NumberFilter(method="filter_noop")
    # The desk's filters too, so its map's lead tiles hold what its list holds.
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label="part of the title")
    layer = django_filters.CharFilter(field_name="layer_ref", label="change layer reference")

    class Meta:
        model = Lead
        fields = ["status", "source", "division", "unit", "plan", "target", "overdue", "change_class", "bbox"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "class" in data and "change_class" not in data:
            data = data.copy()
            data["change_class"] = data.get("class")
        super().__init__(data, *args, **kwargs)

    def filter_noop(self, qs, name, value):
        return qs

    def filter_bbox(self, qs, name, value):
        box = Polygon.from_bbox(_floats(value, 4, "bbox"))
        box.srid = _srid(self.request)
        return qs.filter(geom__intersects=to_storage(box))

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
