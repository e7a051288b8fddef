"""The embedded demo's aggregate (no ArrayAgg on SpatiaLite) gives the numbers and ids PostGIS gives."""

from datetime import datetime

import pytest
from django.utils import timezone

from supervision.assessment import indicators

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("params", [{}, {"suspected_weight": 0.5}])
def test_portable_aggregate_equals_the_postgis_one(scenario, params):
    tz = timezone.get_default_timezone()
    window = indicators.Window(
        start=datetime(2025, 7, 1, tzinfo=tz),
        end=datetime(2025, 10, 1, tzinfo=tz),
        period_code="2025-Q3",
        plan_id=scenario.plan.pk,
    )
    ids = [scenario.A.pk, scenario.B.pk]
    compared = 0
    for code, d in indicators.DEFINITIONS.items():
        postgis = indicators.indicator_aggregate(code, division_ids=ids, window=window, params=params)
        portable = indicators._aggregate_portable(d, ids=ids, window=window, params=params)
        assert portable == postgis, code
        compared += any(raw.numerator or raw.denominator for raw in postgis.values())
    assert compared >= 3  # the scenario gives several indicators real numbers to compare
