import django_filters
from django.conf import settings
from django.contrib.gis.geos import Point, Polygon
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import AccessAction, AccessLevel, AppliesTo, Dimension, UnitClass
from .models import AccessRequirement, ControlUnit


def _floats(value: str, count: int, name: str) -> list[float]:
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        raise ValidationError(
            _("%(name)s must be %(count)s comma-separated numbers, got '%(value)s'.")
            % {"name": name, "count": count, "value": value}
        ) from None
    if len(parts) != count:
        raise ValidationError(
            _("%(name)s must be %(count)s comma-separated numbers, got '%(value)s'.")
            % {"name": name, "count": count, "value": value}
        )
    return parts


def _srid(request) -> int:
    raw = request.query_params.get("srid") if request is not None else None
    if not raw:
        return settings.API_SRID
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(_("srid must be an EPSG number, got '%(raw)s'.") % {"raw": raw}) from None


def to_storage(geom):
    """Transform a query geometry to storage; an unknown SRID is a 400, not a 500."""
    from django.contrib.gis.gdal import GDALException, SpatialReference

    try:
        SpatialReference(geom.srid)
        if geom.srid != settings.STORAGE_SRID:
            geom.transform(settings.STORAGE_SRID)
    except (GDALException, ValueError) as exc:
        raise ValidationError(
            _("srid %(geom_srid)s is not a known coordinate reference system (%(exc)s).")
            % {"geom_srid": geom.srid, "exc": exc}
        ) from None
    return geom


class UnitFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__code", label=_("方案编码"))
    unit_class = django_filters.ChoiceFilter(field_name="unit_class", choices=UnitClass.choices, label=_("分类"))
    division = django_filters.CharFilter(field_name="division__adcode", label=_("行政区划代码"))
    code = django_filters.CharFilter(field_name="code", lookup_expr="istartswith", label=_("单元编码（前缀）"))
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("名称"))
    bbox = django_filters.CharFilter(method="filter_bbox", label=_("范围 minx,miny,maxx,maxy（srid 坐标系）"))
    contains = django_filters.CharFilter(method="filter_contains", label=_("包含点 LON,LAT（srid 坐标系）"))
    srid = django_filters.NumberFilter(method="filter_noop", label=_("bbox/contains 的坐标系 EPSG，默认 4326"))

    class Meta:
        model = ControlUnit
        fields = ["plan", "unit_class", "division", "code", "name"]

    def __init__(self, data=None, *args, **kwargs):
        # `class` is the public name of the class filter (a Python keyword, so aliased here).
        if data is not None and "class" in data and "unit_class" not in data:
            data = data.copy()
            data["unit_class"] = data.get("class")
        super().__init__(data, *args, **kwargs)

    def filter_noop(self, queryset, name, value):
        return queryset

    def filter_bbox(self, queryset, name, value):
        minx, miny, maxx, maxy = _floats(value, 4, "bbox")
        box = Polygon.from_bbox((minx, miny, maxx, maxy))
        box.srid = _srid(self.request)
        return queryset.filter(geom__intersects=to_storage(box))

    def filter_contains(self, queryset, name, value):
        x, y = _floats(value, 2, "contains")
        return queryset.filter(geom__intersects=to_storage(Point(x, y, srid=_srid(self.request))))


class AccessRequirementFilter(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__code", label=_("方案编码"))
    level = django_filters.ChoiceFilter(choices=AccessLevel.choices, label=_("层级"))
    scope_code = django_filters.CharFilter(label=_("范围编码"))
    dimension = django_filters.ChoiceFilter(choices=Dimension.choices, label=_("维度"))
    action = django_filters.ChoiceFilter(choices=AccessAction.choices, label=_("管控类型"))
    applies_to = django_filters.ChoiceFilter(choices=AppliesTo.choices, label=_("适用"))
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label=_("条款内容包含"))

    class Meta:
        model = AccessRequirement
        fields = ["plan", "level", "scope_code", "dimension", "action", "applies_to"]
