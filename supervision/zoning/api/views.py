from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
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
    PlanFileInputSerializer,
    PlanParentInputSerializer,
    PlanPublishInputSerializer,
    PlanReviseInputSerializer,
    PlanSerializer,
    PlanUpdateInputSerializer,
    SitingAssessmentSerializer,
    SitingInputSerializer,
    SummaryRowSerializer,
    UnitDetailSerializer,
    UnitFeatureSerializer,
)


class PlanListView(generics.ListAPIView):
    """Zoning plans: every version signed in; anonymous (PUBLIC_ZONING) only effective and superseded ones."""

    permission_classes = [PublicZoningRead]
    serializer_class = PlanSerializer

    def get_queryset(self):
        # what each plan's row shows, read for the page at once (the access lists: PlanListSerializer)
        return (
            selectors.plans_for_user(self.request.user)
            .select_related("parent", "revised_from")
            .prefetch_related("regions")
        )


class PlanDetailView(generics.RetrieveAPIView):
    permission_classes = [PublicZoningRead]
    serializer_class = PlanSerializer
    lookup_field = "code"

    def get_queryset(self):
        return selectors.plans_for_user(self.request.user)


def _plan_visible(request, code: str) -> ZoningPlan:
    return get_object_or_404(selectors.plans_for_user(request.user), code=code)


class PlanReviseView(APIView):
    """Make a draft revision of this version (planners): units, overlays, access list, scan rules copied."""

    @extend_schema(request=PlanReviseInputSerializer, responses={201: PlanSerializer})
    def post(self, request, code):
        services.plan_actor_check(user=request.user)
        data = PlanReviseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        draft = services.plan_revise(
            from_code=code,
            to_code=v["code"],
            name=v.get("name") or None,
            actor=request.user,
            reason=v["reason"],
            document=v["document"],
        )
        return Response(PlanSerializer(selectors.plans_visible().get(pk=draft.pk)).data, status=status.HTTP_201_CREATED)


class PlanFileView(APIView):
    """draft → filed (备案): authority, document number, date, attachments (multipart); planners only."""

    @extend_schema(request=PlanFileInputSerializer, responses=PlanSerializer)
    def post(self, request, code):
        services.plan_actor_check(user=request.user)
        plan = services.plan_get(code=code)
        data = PlanFileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        plan = services.plan_file(
            plan=plan,
            authority=v["authority"],
            number=v["number"],
            date=v["date"],
            approved_by=v["approved_by"],
            attachments=[(f.name, f) for f in v["attachments"]],
            actor=request.user,
        )
        return Response(PlanSerializer(selectors.plans_visible().get(pk=plan.pk)).data)


class PlanParentView(APIView):
    """Set or clear the higher plan a draft refers to (planners): no cycles, a containing jurisdiction, never looser."""

    @extend_schema(request=PlanParentInputSerializer, responses=PlanSerializer)
    def post(self, request, code):
        services.plan_actor_check(user=request.user)
        plan = services.plan_get(code=code)
        data = PlanParentInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        plan = services.plan_parent_set(
            plan=plan, parent=data.validated_data["parent"], actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(PlanSerializer(selectors.plans_visible().get(pk=plan.pk)).data)


class PlanPublishView(APIView):
    """filed → effective; the jurisdiction's effective version is superseded in the same transaction."""

    @extend_schema(request=PlanPublishInputSerializer, responses=PlanSerializer)
    def post(self, request, code):
        services.plan_actor_check(user=request.user)
        plan = services.plan_get(code=code)
        data = PlanPublishInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.plan_publish(
            plan=plan, effective_date=data.validated_data["effective_date"], actor=request.user
        )
        return Response(PlanSerializer(selectors.plans_visible().get(pk=plan.pk)).data)


class PlanUpdateView(APIView):
    """Append to the plan's dynamic-update log (what changed, why, by which document); planners only."""

    @extend_schema(request=PlanUpdateInputSerializer, responses={201: PlanUpdateInputSerializer})
    def post(self, request, code):
        services.plan_actor_check(user=request.user)
        data = PlanUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.plan_update_record(
            plan=services.plan_get(code=code), actor=request.user, **data.validated_data
        )
        return Response(
            {"what": entry.what, "why": entry.why, "document": entry.document, "at": entry.at},
            status=status.HTTP_201_CREATED,
        )


class PlanDiffView(APIView):
    """What changed from version `code` to version `other`: units (by code, then by place) and clauses."""

    permission_classes = [PublicZoningRead]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, code, other):
        old, new = _plan_visible(request, code), _plan_visible(request, other)
        return Response(selectors.plan_diff(old=old, new=new))


class PlanSummaryView(APIView):
    """Annex 1 of the plan computed from geometry: counts and area shares per district and class."""

    permission_classes = [PublicZoningRead]

    @extend_schema(responses=SummaryRowSerializer(many=True))
    def get(self, request, code):
        plan = _plan_visible(request, code)
        return Response(SummaryRowSerializer(selectors.zoning_summary(plan=plan), many=True).data)


class PlanExportView(APIView):
    """The plan as a GeoPackage (`format=gpkg`) or zipped Shapefiles (`format=shp`), as export_plan writes it."""

    permission_classes = [PublicZoningRead]

    def perform_content_negotiation(self, request, force=False):
        # `format` names the file format here, not a DRF renderer (which would answer 404 to 'shp').
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=[OpenApiParameter("format", str, description="gpkg | shp")], responses=bytes)
    def get(self, request, code):
        plan = _plan_visible(request, code)
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


def _units_queryset(request):
    """Units of the plans the requester may see; the public gets generalised, rounded outlines."""
    qs = selectors.units_filtered()
    if request.user.is_authenticated:
        geom = Transform("geom", settings.API_SRID)
    else:
        qs = qs.filter(plan__in=selectors.plans_public_qs())
        geom = selectors.geometry_public("geom")
    # GeoJSON text made by PostGIS: parsing unit polygons into GEOS and back cost seconds a page.
    return qs.annotate(geom_geojson=AsGeoJSON(geom, precision=7)).defer("geom")


class UnitListView(generics.ListAPIView):
    """Control units as a GeoJSON FeatureCollection (paginated; filters plan, class, division, code, bbox, contains)."""

    permission_classes = [PublicZoningRead]
    serializer_class = UnitFeatureSerializer
    pagination_class = UnitPagination
    filterset_class = UnitFilter

    def get_queryset(self):
        return _units_queryset(self.request).order_by("plan__code", "code")

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
        unit = get_object_or_404(
            _units_queryset(self.request), plan__code=self.kwargs["plan"], code=self.kwargs["code"]
        )
        unit.access_list = selectors.requirements_for_unit(unit=unit)
        return unit


class LookupView(APIView):
    """Every unit and overlay a point, line or polygon touches, with overlap (m²) and share."""

    permission_classes = [PublicZoningRead]
    allow_post_as_read = True

    @extend_schema(request=LookupInputSerializer, responses=LookupOutputSerializer)
    def post(self, request):
        data = LookupInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        result = selectors.geometry_lookup(plan=data.validated_data["plan"], geometry=data.validated_data["geometry"])
        return Response(LookupOutputSerializer(result).data)


class AccessRequirementListView(generics.ListAPIView):
    """Access-list clauses (生态环境准入清单), filtered by plan, level, scope, dimension, action, applies-to, text."""

    permission_classes = [PublicZoningRead]
    serializer_class = AccessRequirementSerializer
    filterset_class = AccessRequirementFilter

    def get_queryset(self):
        return selectors.requirements_filtered().filter(plan__in=selectors.plans_for_user(self.request.user))


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
        data = SitingInputSerializer(data=request.data, context={"request": request})
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
