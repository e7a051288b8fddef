from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.pagination import GeoJsonPagination

from config.api import PublicZoningRead

from .. import selectors, services
from ..filters import AccessRequirementFilter, UnitFilter
from ..industries import industry_search, load_industries
from ..models import SitingAssessment, ZoningPlan
from ..vector_export import ExportError, plan_export_bytes
from .serializers import (
    AccessRequirementSerializer,
    IndustrySearchInputSerializer,
    IndustrySerializer,
    LookupInputSerializer,
    LookupOutputSerializer,
    PlanSerializer,
    SitingAssessmentSerializer,
    SitingInputSerializer,
    SummaryRowSerializer,
    UnitDetailSerializer,
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


class PlanExportView(APIView):
    """The plan as a GeoPackage (`format=gpkg`) or zipped Shapefiles (`format=shp`), as export_plan writes it."""

    permission_classes = [PublicZoningRead]

    def perform_content_negotiation(self, request, force=False):
        # `format` names the file format here, not a DRF renderer (which would answer 404 to 'shp').
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=[OpenApiParameter("format", str, description="gpkg | shp")], responses=bytes)
    def get(self, request, code):
        plan = get_object_or_404(ZoningPlan, code=code)
        fmt = request.query_params.get("format", "gpkg")
        if fmt not in ("gpkg", "shp"):
            raise ExportError(
                _("Unknown export format '%(fmt)s' (use gpkg or shp).") % {"fmt": fmt}, code="invalid_format"
            )
        content, filename, media_type = plan_export_bytes(plan=plan, fmt=fmt)
        response = HttpResponse(content, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


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
        # GeoJSON text made by PostGIS: parsing unit polygons into GEOS and back cost seconds a page.
        return (
            selectors.units_filtered()
            .annotate(geom_geojson=AsGeoJSON(Transform("geom", settings.API_SRID), precision=7))
            .defer("geom")
            .order_by("plan__code", "code")
        )

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
    """One control unit (GeoJSON Feature) with its whole access list across the four layers.

    Units are addressed by plan and code; `access_list` holds the plan-wide clauses, those of
    the overlays over the unit (basin, red line), its division's and its own.
    """

    permission_classes = [PublicZoningRead]
    serializer_class = UnitDetailSerializer

    def get_object(self):
        unit = get_object_or_404(_units_queryset(), plan__code=self.kwargs["plan"], code=self.kwargs["code"])
        unit.access_list = selectors.requirements_for_unit(unit=unit)
        return unit


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


class AccessRequirementListView(generics.ListAPIView):
    """Access-list clauses (生态环境准入清单), filtered by plan, level, scope, dimension, action, applies-to, text."""

    permission_classes = [PublicZoningRead]
    serializer_class = AccessRequirementSerializer
    filterset_class = AccessRequirementFilter

    def get_queryset(self):
        return selectors.requirements_filtered()


class IndustrySearchView(APIView):
    """GB/T 4754-2017 industries by code prefix (C26, 26, C) or Chinese name (化学); all when q is empty."""

    permission_classes = [PublicZoningRead]

    @extend_schema(parameters=[IndustrySearchInputSerializer], responses=IndustrySerializer(many=True))
    def get(self, request):
        params = IndustrySearchInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q, level = params.validated_data["q"], params.validated_data.get("level")
        found = industry_search(q) if q.strip() else sorted(load_industries().values(), key=lambda i: i.code)
        if level:
            found = [i for i in found if i.level == level]
        return Response(IndustrySerializer(found, many=True).data)


class SitingAssessmentCreateView(APIView):
    """Project siting assessment (项目选址研判): may this project go here? Stored; returns 201 with the result."""

    permission_classes = [PublicZoningRead]
    allow_post_as_read = True

    @extend_schema(request=SitingInputSerializer, responses={201: SitingAssessmentSerializer})
    def post(self, request):
        data = SitingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.siting_assess(
            plan=data.validated_data["plan"],
            geometry=data.validated_data["geometry"],
            industry_code=data.validated_data["industry_code"],
            project_type=data.validated_data["project_type"],
            actor=request.user,
        )
        return Response(
            SitingAssessmentSerializer(assessment, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class SitingAssessmentDetailView(generics.RetrieveAPIView):
    """A stored siting assessment by its id."""

    permission_classes = [PublicZoningRead]
    serializer_class = SitingAssessmentSerializer
    queryset = SitingAssessment.objects.select_related("plan")
