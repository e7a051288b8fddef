from django.conf import settings
from django.contrib.gis.db.models.functions import Transform
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.pagination import GeoJsonPagination

from config.api import PublicZoningRead

from .. import selectors
from ..filters import UnitFilter
from ..models import ControlUnit, ZoningPlan
from .serializers import (
    LookupInputSerializer,
    LookupOutputSerializer,
    PlanSerializer,
    SummaryRowSerializer,
    UnitFeatureSerializer,
)


class PlanListView(generics.ListAPIView):
    """Zoning plans (every version)."""

    permission_classes = [PublicZoningRead]
    serializer_class = PlanSerializer
    queryset = selectors.plans_visible()


class PlanDetailView(generics.RetrieveAPIView):
    permission_classes = [PublicZoningRead]
    serializer_class = PlanSerializer
    queryset = selectors.plans_visible()
    lookup_field = "code"


class PlanSummaryView(APIView):
    """Annex 1 of the plan computed from geometry: counts and area shares per district and class."""

    permission_classes = [PublicZoningRead]

    @extend_schema(responses=SummaryRowSerializer(many=True))
    def get(self, request, code):
        plan = get_object_or_404(ZoningPlan, code=code)
        return Response(SummaryRowSerializer(selectors.zoning_summary(plan=plan), many=True).data)


class UnitPagination(GeoJsonPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


def _units_queryset():
    return selectors.units_filtered().annotate(geom_api=Transform("geom", settings.API_SRID))


class UnitListView(generics.ListAPIView):
    """Control units as a GeoJSON FeatureCollection (paginated; filters plan, class, division, code, bbox, contains)."""

    permission_classes = [PublicZoningRead]
    serializer_class = UnitFeatureSerializer
    pagination_class = UnitPagination
    filterset_class = UnitFilter

    def get_queryset(self):
        return _units_queryset().order_by("plan__code", "code")

    @extend_schema(
        parameters=[
            OpenApiParameter("class", str, description="priority | key | general"),
            OpenApiParameter("contains", str, description="LON,LAT: the unit(s) containing this point"),
            OpenApiParameter("bbox", str, description="minx,miny,maxx,maxy"),
            OpenApiParameter("srid", int, description="EPSG code of contains/bbox (default 4326)"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class UnitDetailView(generics.RetrieveAPIView):
    """One control unit (GeoJSON Feature). Units are addressed by plan and code."""

    permission_classes = [PublicZoningRead]
    serializer_class = UnitFeatureSerializer

    def get_object(self):
        return get_object_or_404(_units_queryset(), plan__code=self.kwargs["plan"], code=self.kwargs["code"])


class LookupView(APIView):
    """Every unit and overlay a point, line or polygon touches, with overlap (m²) and share."""

    permission_classes = [PublicZoningRead]
    allow_post_as_read = True

    @extend_schema(request=LookupInputSerializer, responses=LookupOutputSerializer)
    def post(self, request):
        data = LookupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = selectors.geometry_lookup(plan=data.validated_data["plan"], geometry=data.validated_data["geometry"])
        return Response(LookupOutputSerializer(result).data)
