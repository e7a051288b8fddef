"""factory_boy factories with fixed geometries (lon/lat squares near Changchun)."""

from contextlib import contextmanager

import factory
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon

from supervision.zoning.choices import DivisionLevel, PlanStatus, UnitClass
from supervision.zoning.models import AdministrativeDivision, ControlUnit, Overlay, ZoningPlan


def square(x: float, y: float, size: float = 0.01, srid: int | None = None) -> MultiPolygon:
    """An axis-aligned square with its lower-left corner at (x, y), as a MultiPolygon."""
    ring = ((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y))
    return MultiPolygon(Polygon(ring), srid=srid or settings.STORAGE_SRID)


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeDivision
        django_get_or_create = ("adcode",)

    adcode = "220102"
    name = "南关区"
    level = DivisionLevel.COUNTY


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ZoningPlan
        django_get_or_create = ("code",)

    code = "cc-test"
    name = "长春市测试方案"
    region_adcode = "220100"
    # Scans, monitoring and siting run only on the plan in force; tests of drafts say so.
    status = PlanStatus.EFFECTIVE


@contextmanager
def plan_content_editable(plan):
    """Fixtures only: write units, overlays or clauses into a plan set up as filed or in force.

    The database refuses content changes to a plan that is not a draft (zoning migration 0006);
    a fixture builds the plan as a draft for the length of the write and puts its status back.
    """
    status = ZoningPlan.objects.filter(pk=plan.pk).values_list("status", flat=True).first()
    if status in (None, PlanStatus.DRAFT):
        yield plan
        return
    ZoningPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.DRAFT)
    try:
        yield plan
    finally:
        ZoningPlan.objects.filter(pk=plan.pk).update(status=status)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ControlUnit

    plan = factory.SubFactory(PlanFactory)
    division = factory.SubFactory(DivisionFactory)
    code = factory.Sequence(lambda n: f"ZH2201021{n + 1:04d}")
    name = factory.LazyAttribute(lambda o: f"单元{o.code}")
    unit_class = UnitClass.PRIORITY
    geom = factory.LazyFunction(lambda: square(125.30, 43.80))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from django.contrib.gis.db.models.functions import Area, Transform

        with plan_content_editable(kwargs["plan"]):
            obj = super()._create(model_class, *args, **kwargs)
            model_class.objects.filter(pk=obj.pk).update(area_m2=Area(Transform("geom", settings.AREA_SRID)))
        obj.refresh_from_db()
        return obj


class OverlayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Overlay

    plan = factory.SubFactory(PlanFactory)
    kind = "red_line"
    code = factory.Sequence(lambda n: f"HX-{n + 1:04d}")
    name = "生态保护红线"
    geom = factory.LazyFunction(lambda: square(125.302, 43.802, 0.004))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with plan_content_editable(kwargs["plan"]):
            return super()._create(model_class, *args, **kwargs)
