"""Vector tiles (`/api/v1/tiles/{layer}/{z}/{x}/{y}.pbf`) and the unit under a clicked point."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import PublicZoningRead
from supervision.cases import permissions as perms

from .. import selectors, tiles
from ..models import ZoningPlan
from .serializers import VisiblePlanField

MVT = "application/vnd.mapbox-vector-tile"


def _plan(code: str | None, *, public: bool = False) -> ZoningPlan:
    if not code:
        raise tiles.TileError(_("plan: this layer needs a plan code (?plan=CODE)."), code="plan_required")
    # The public sees only the versions in force or superseded (never drafts): one selector decides.
    plans = selectors.plans_public_qs() if public else ZoningPlan.objects.all()
    plan = plans.filter(code=code).only("pk", "code", "content_version").first()
    if plan is None:
        raise tiles.TileError(_("plan: no zoning plan with code '%(code)s'.") % {"code": code}, code="plan_not_found")
    return plan


class TileView(APIView):
    """Mapbox vector tile of units or overlays (`?plan=`; public under PUBLIC_ZONING) or of leads or
    targets (the user's district scope, as the API). ETag + If-None-Match answer 304."""

    def get_permissions(self):
        if self.kwargs.get("layer") in tiles.LAYERS_SCOPED:
            return [perms.HasCaseRole()]
        return [PublicZoningRead()]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("plan", str, description="plan code (units, overlays; optional for leads)"),
            OpenApiParameter(
                "status", str, description="leads: the leads API's filters (status, source, overdue, unit, q, …)"
            ),
        ],
        responses={(200, MVT): OpenApiTypes.BINARY},
    )
    def get(self, request, layer, z, x, y):
        address = tiles.tile_address(layer=layer, z=z, x=x, y=y)
        if_none_match = request.headers.get("If-None-Match")
        if layer in tiles.LAYERS_PLAN:
            public = not request.user.is_authenticated
            plan = _plan(request.query_params.get("plan"), public=public)
            etag = tiles.plan_tile_etag(plan=plan, layer=layer, public=public)
            cache_control = ("public" if settings.PUBLIC_ZONING else "private") + ", no-cache"
            if tiles.etag_matches(if_none_match, etag):
                return _not_modified(etag, cache_control)
            content = tiles.plan_tile(plan=plan, address=address, public=public)
        else:
            if layer == "leads":
                code = request.query_params.get("plan")
                if code:
                    _plan(code)  # an unknown plan is refused, not an empty layer
                content = tiles.leads_tile(leads=_leads(request), address=address)
            else:
                content = tiles.targets_tile(targets=_targets(request), address=address)
            etag = tiles.content_etag(content)
            cache_control = "private, no-cache"
            if tiles.etag_matches(if_none_match, etag):
                return _not_modified(etag, cache_control)
        response = HttpResponse(content, content_type=MVT)
        response["ETag"] = etag
        response["Cache-Control"] = cache_control
        response["Vary"] = "Cookie, Authorization"
        return response


def _filtered(filterset):
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def _leads(request):
    """The user's leads (the leads API's scope) narrowed by the leads API's filters (`status`, `plan`,
    `source`, `overdue`, `unit`, `q`, …); merged leads (duplicates of another) unless a status is asked."""
    from supervision.cases.choices import LeadStatus
    from supervision.cases.filters import LeadFilter
    from supervision.cases.selectors import leads_for

    leads = _filtered(LeadFilter(request.query_params, queryset=leads_for(user=request.user), request=request))
    if "status" not in request.query_params:
        leads = leads.exclude(status=LeadStatus.MERGED)
    return leads


def _targets(request):
    """The user's enforcement targets (the targets API's scope and filters)."""
    from supervision.cases.filters import TargetFilter
    from supervision.cases.selectors import targets_for

    return _filtered(TargetFilter(request.query_params, queryset=targets_for(user=request.user), request=request))


def _not_modified(etag: str, cache_control: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


class UnitAtInputSerializer(serializers.Serializer):
    plan = VisiblePlanField()
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)


class UnitAtSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    unit_class = serializers.CharField()
    unit_class_label = serializers.CharField(source="get_unit_class_display")
    division = serializers.CharField(source="division.adcode")
    division_name = serializers.CharField(source="division.name")
    area_m2 = serializers.FloatField()


class UnitAtView(APIView):
    """The unit(s) of a plan under a clicked point (lon/lat, API_SRID); two on a shared boundary."""

    permission_classes = [PublicZoningRead]

    @extend_schema(parameters=[UnitAtInputSerializer], responses=UnitAtSerializer(many=True))
    def get(self, request):
        params = UnitAtInputSerializer(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        point = selectors.point_in_storage(lon=params.validated_data["lon"], lat=params.validated_data["lat"])
        units = selectors.units_at_point(plan=params.validated_data["plan"], point=point)
        return Response(UnitAtSerializer(units, many=True).data)
