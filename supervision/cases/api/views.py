"""Thin views: scope the object (404 outside the user's division), check the role (403),
validate the input serializer (400), call one service, answer with an output serializer."""

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.core.paginator import InvalidPage
from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.pagination import GeoJsonPagination

from supervision.api_input import BoundedJSONParser
from supervision.api_render import PreEncodedJSONRenderer

from .. import actions, selectors
from .. import permissions as perms
from ..filters import CaseFilter, InspectionFilter, LeadFilter, TargetFilter
from ..models import CaseEvent, ChecklistItem, LeadEvent
from ..services import cases as case_services
from ..services import inspections as inspection_services
from ..services import leads as lead_services
from ..services.notifications import notification_mark_read
from . import serializers as s

PARSERS = [BoundedJSONParser, MultiPartParser, FormParser]


class LeadGeoJsonPagination(GeoJsonPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_paginated_response(self, data):
        # LeadFeatureSerializer(many=True) gives a list of features, not a FeatureCollection.
        return super().get_paginated_response({"features": data})

    def page_of(self, queryset, request, view=None):
        """As paginate_queryset (count, page number checks, 404 past the end) but the page is left
        a sliced queryset, unevaluated, for use as a subquery."""
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from exc
        return self.page.object_list


def _lead_detail(user, pk):
    qs = selectors.leads_for(user=user).prefetch_related(
        Prefetch("events", LeadEvent.objects.select_related("actor").prefetch_related("attachments")),
        "evidence_files",
        "merged_leads",
    )
    return s.LeadDetailSerializer(qs.get(pk=pk), context={"user": user}).data


def _case_detail(user, pk):
    qs = selectors.cases_for(user=user).prefetch_related(
        Prefetch("events", CaseEvent.objects.select_related("actor").prefetch_related("attachments")),
        "evidence_files",
    )
    return s.CaseDetailSerializer(qs.get(pk=pk), context={"user": user}).data


class CaseAppView(APIView):
    permission_classes = [perms.HasCaseRole]


# --- Leads -----------------------------------------------------------------------------------


class GeoJSONRenderer(PreEncodedJSONRenderer):
    """The lead list's default: a GeoJSON FeatureCollection (`?format=json` gives plain JSON)."""

    media_type = "application/geo+json"
    format = "geojson"


class LeadListView(generics.ListCreateAPIView):
    """Leads in the user's scope (filters: status, source, division, unit, plan, target, overdue,
    class, bbox) as a GeoJSON FeatureCollection (`?format=json`: plain JSON); POST files one."""

    permission_classes = [perms.HasCaseRole]
    serializer_class = s.LeadSerializer
    filterset_class = LeadFilter
    parser_classes = PARSERS
    renderer_classes = [GeoJSONRenderer, JSONRenderer, BrowsableAPIRenderer]

    def _geojson(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return getattr(renderer, "format", None) == "geojson"

    def get_serializer_class(self):
        return s.LeadFeatureSerializer if self.request.method == "GET" and self._geojson() else s.LeadSerializer

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            self._paginator = LeadGeoJsonPagination() if self._geojson() else super().paginator
        return self._paginator

    def get_queryset(self):
        # The geometry leaves as GeoJSON text made by PostGIS: no GEOS object, no transform per row.
        return (
            selectors.leads_for(user=self.request.user)
            .select_related("case")
            .annotate(geom_geojson=AsGeoJSON(Transform("geom", settings.API_SRID), precision=7))
            .defer("geom")
        )

    def list(self, request, *args, **kwargs):
        if not self._geojson():
            return super().list(request, *args, **kwargs)
        # The GeoJSON page from plain rows (s.LeadFeaturePage): the same JSON, a fraction of the work.
        # Count and page the ids alone (narrow rows sort fast, off the list-order index); the page's
        # rows are then read in the same query as its ids (a LIMIT/OFFSET subquery).
        queryset = self.filter_queryset(selectors.leads_for(user=request.user))
        page_ids = self.paginator.page_of(queryset.values_list("pk", flat=True), request, view=self)
        rows = s.LeadFeaturePage.rows(selectors.leads_for(user=request.user).filter(pk__in=page_ids))
        return self.get_paginated_response(s.LeadFeaturePage.encode(rows))

    @extend_schema(request=s.LeadCreateInput, responses={201: s.LeadDetailSerializer})
    def post(self, request):
        perms.require_role(request.user, "lead.create")
        data = s.LeadCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        lead = lead_services.lead_create(actor=request.user, **actions.lead_create_arguments(v))
        return Response(_lead_detail(request.user, lead.pk), status=status.HTTP_201_CREATED)


class LeadDetailView(CaseAppView):
    @extend_schema(responses=s.LeadDetailSerializer)
    def get(self, request, pk):
        lead_services.lead_get_for(actor=request.user, lead_id=pk)
        return Response(_lead_detail(request.user, pk))


class ActionView(CaseAppView):
    """POST one action on one lead or case, as `cases.actions` defines it: scope (404), role (403), input (400), service."""

    parser_classes = PARSERS
    table: actions.ActionTable
    object_action: actions.ObjectAction

    def detail(self, user, pk):  # pragma: no cover - set by _action_view
        raise NotImplementedError

    def perform(self, request, pk):
        obj = self.table.get_object(actor=request.user, pk=pk)
        self.object_action.allowed(request.user)
        data = self.object_action.input(data=request.data)
        data.is_valid(raise_exception=True)
        return self.table.run(self.object_action.name, obj=obj, actor=request.user, data=data.validated_data)

    def post(self, request, pk):
        self.perform(request, pk)
        return Response(self.detail(request.user, pk))


def _action_view(name, table: actions.ActionTable, action_name: str, *, detail, detail_serializer):
    action = table[action_name]
    view = type(
        name,
        (ActionView,),
        {
            "table": table,
            "object_action": action,
            "detail": lambda self, user, pk: detail(user, pk),
            "__doc__": action.doc,
        },
    )

    # A function of its own per view: extend_schema annotates the function it is given, and
    # the shared ActionView.post would carry the last view's request and response for all.
    def post(self, request, pk):
        return ActionView.post(self, request, pk)

    view.post = extend_schema(request=action.input, responses={200: detail_serializer}, description=action.doc)(post)
    return view


def _lead_action(name, action_name):
    return _action_view(name, actions.LEADS, action_name, detail=_lead_detail, detail_serializer=s.LeadDetailSerializer)


LeadDispatchView = _lead_action("LeadDispatchView", "dispatch")
LeadStartVerificationView = _lead_action("LeadStartVerificationView", "start_verification")
LeadDismissView = _lead_action("LeadDismissView", "dismiss")
LeadMergeView = _lead_action("LeadMergeView", "merge")
LeadConfirmView = _lead_action("LeadConfirmView", "confirm")
LeadAssignView = _lead_action("LeadAssignView", "assign")


class AttachView(ActionView):
    """POST files to a lead or case (the table's `attach`): 201 with the new evidence rows."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request, pk):
        rows = self.perform(request, pk)
        return Response(s.EvidenceSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class LeadAttachView(AttachView):
    """Add photos/PDFs to a lead (JPEG, PNG or PDF, up to CASES_ATTACHMENT_MAX_BYTES)."""

    table = actions.LEADS
    object_action = actions.LEADS["attach"]

    @extend_schema(request=s.AttachInput, responses={201: s.EvidenceSerializer(many=True)})
    def post(self, request, pk):
        return AttachView.post(self, request, pk)


# --- Cases -----------------------------------------------------------------------------------


class CaseListView(generics.ListAPIView):
    """Cases in the user's scope (filters: status, division, unit, plan, target, escalation_level, overdue, published)."""

    permission_classes = [perms.HasCaseRole]
    serializer_class = s.CaseSerializer
    filterset_class = CaseFilter

    def get_queryset(self):
        return selectors.cases_for(user=self.request.user)


class CaseDetailView(CaseAppView):
    @extend_schema(responses=s.CaseDetailSerializer)
    def get(self, request, pk):
        case_services.case_get_for(actor=request.user, case_id=pk)
        return Response(_case_detail(request.user, pk))


def _case_action(name, action_name):
    return _action_view(name, actions.CASES, action_name, detail=_case_detail, detail_serializer=s.CaseDetailSerializer)


CaseOrderRectificationView = _case_action("CaseOrderRectificationView", "order_rectification")
CaseAssignView = _case_action("CaseAssignView", "assign")
CaseNamePartyView = _case_action("CaseNamePartyView", "name_party")
CaseSubmitRectificationView = _case_action("CaseSubmitRectificationView", "submit_rectification")
CaseAcceptView = _case_action("CaseAcceptView", "accept")
CaseReturnView = _case_action("CaseReturnView", "return")
CasePenaltyView = _case_action("CasePenaltyView", "penalty")
CasePoliceTransferView = _case_action("CasePoliceTransferView", "transfer_police")
CasePublishView = _case_action("CasePublishView", "publish")


class CaseAttachView(AttachView):
    """Add photos/PDFs to a case (JPEG, PNG or PDF, up to CASES_ATTACHMENT_MAX_BYTES)."""

    table = actions.CASES
    object_action = actions.CASES["attach"]

    @extend_schema(request=s.AttachInput, responses={201: s.EvidenceSerializer(many=True)})
    def post(self, request, pk):
        return AttachView.post(self, request, pk)


class TypicalCaseListView(generics.ListAPIView):
    """Published typical cases (典型案例), open to everyone."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = s.TypicalCasePublicSerializer
    queryset = selectors.typical_cases_public()


# --- Targets ---------------------------------------------------------------------------------


class TargetListView(generics.ListAPIView):
    permission_classes = [perms.HasCaseRole]
    serializer_class = s.TargetSerializer
    filterset_class = TargetFilter

    def get_queryset(self):
        return selectors.targets_for(user=self.request.user).order_by("name", "id")


class TargetDetailView(generics.RetrieveAPIView):
    permission_classes = [perms.HasCaseRole]
    serializer_class = s.TargetSerializer

    def get_queryset(self):
        return selectors.targets_for(user=self.request.user)


# --- Inspections -----------------------------------------------------------------------------


class InspectionPlanListView(generics.ListCreateAPIView):
    """Double-random inspection plans; POST creates one (draft) — then POST …/draw/ and …/publish/."""

    permission_classes = [perms.HasCaseRole]
    serializer_class = s.InspectionPlanSerializer

    def get_queryset(self):
        return selectors.inspection_plans_for(user=self.request.user)

    @extend_schema(request=s.InspectionPlanCreateInput, responses={201: s.InspectionPlanSerializer})
    def post(self, request):
        perms.require_role(request.user, "inspection_plan.create")
        data = s.InspectionPlanCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = inspection_services.inspection_plan_create(actor=request.user, **data.validated_data)
        return Response(s.InspectionPlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class InspectionPlanDetailView(CaseAppView):
    @extend_schema(responses=s.InspectionPlanSerializer)
    def get(self, request, pk):
        plan = inspection_services.inspection_plan_get_for(actor=request.user, plan_id=pk)
        return Response(s.InspectionPlanSerializer(plan).data)


class InspectionPlanDrawView(CaseAppView):
    """Draw targets and inspectors (seed and pools stored); creates the inspections with their checklists."""

    @extend_schema(request=None, responses=s.InspectionPlanSerializer)
    def post(self, request, pk):
        plan = inspection_services.inspection_plan_get_for(actor=request.user, plan_id=pk)
        plan = inspection_services.inspection_plan_draw(inspection_plan=plan, actor=request.user)
        return Response(s.InspectionPlanSerializer(plan).data)


class InspectionPlanPublishView(CaseAppView):
    """一公开: publish the draw."""

    @extend_schema(request=None, responses=s.InspectionPlanSerializer)
    def post(self, request, pk):
        plan = inspection_services.inspection_plan_get_for(actor=request.user, plan_id=pk)
        plan = inspection_services.inspection_plan_publish(inspection_plan=plan, actor=request.user)
        return Response(s.InspectionPlanSerializer(plan).data)


class InspectionPlanVerifyView(CaseAppView):
    """Re-run the stored draw from its seed and pools; `matches` is true when it reproduces."""

    @extend_schema(responses=s.VerifySerializer)
    def get(self, request, pk):
        plan = inspection_services.inspection_plan_get_for(actor=request.user, plan_id=pk)
        return Response(s.VerifySerializer(inspection_services.inspection_plan_verify(inspection_plan=plan)).data)


class PublicInspectionPlanListView(generics.ListAPIView):
    """Published double-random draws (一公开), open to everyone."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = s.InspectionPlanPublicSerializer
    queryset = selectors.inspection_plans_public()


class InspectionListView(generics.ListAPIView):
    permission_classes = [perms.HasCaseRole]
    serializer_class = s.InspectionSerializer
    filterset_class = InspectionFilter

    def get_queryset(self):
        return selectors.inspections_for(user=self.request.user).prefetch_related("inspectors")


def _inspection_detail(inspection):
    """The inspection with its checklist: each item's checker and photos fetched in one query each."""
    prefetch_related_objects([inspection], "items__checked_by", "items__field_photos")
    return s.InspectionDetailSerializer(inspection).data


class InspectionDetailView(CaseAppView):
    @extend_schema(responses=s.InspectionDetailSerializer)
    def get(self, request, pk):
        inspection = inspection_services.inspection_get_for(actor=request.user, inspection_id=pk)
        return Response(_inspection_detail(inspection))


class InspectionStartView(CaseAppView):
    @extend_schema(request=s.CommentInput, responses=s.InspectionDetailSerializer)
    def post(self, request, pk):
        inspection = inspection_services.inspection_get_for(actor=request.user, inspection_id=pk)
        data = s.CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        inspection = inspection_services.inspection_start(
            inspection=inspection, actor=request.user, comment=data.validated_data["comment"]
        )
        return Response(_inspection_detail(inspection))


class InspectionCompleteView(CaseAppView):
    @extend_schema(request=s.CommentInput, responses=s.InspectionDetailSerializer)
    def post(self, request, pk):
        inspection = inspection_services.inspection_get_for(actor=request.user, inspection_id=pk)
        data = s.CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        inspection = inspection_services.inspection_complete(
            inspection=inspection, actor=request.user, comment=data.validated_data["comment"]
        )
        return Response(_inspection_detail(inspection))


class ChecklistItemRecordView(CaseAppView):
    """Record one checklist item: pass | fail | note (a note is required for fail/note). A failure raises a lead.

    Optional latitude, longitude, accuracy_m and recorded_at: where the device was (kept on the item
    and in the evidence of the lead a failure raises)."""

    @extend_schema(request=s.ItemRecordInput, responses=s.ChecklistItemSerializer)
    def post(self, request, pk, item_id):
        inspection = inspection_services.inspection_get_for(actor=request.user, inspection_id=pk)
        item = perms.scoped_get(
            ChecklistItem.objects.filter(inspection=inspection).select_related("inspection"),
            item_id,
            label=_("Checklist item"),
        )
        data = s.ItemRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = inspection_services.checklist_item_record(
            item=item, actor=request.user, result=v["result"], note=v["note"], place=s.PlaceInput.place(v)
        )
        return Response(s.ChecklistItemSerializer(item).data)


# --- Inbox and me ------------------------------------------------------------------------------


class NotificationListView(generics.ListAPIView):
    """The signed-in user's inbox (any role)."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.Notification.objects.none()
        qs = selectors.notifications_for(user=self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs


class NotificationReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=s.NotificationSerializer)
    def post(self, request, pk):
        n = perms.scoped_get(selectors.notifications_for(user=request.user), pk, label=_("Notification"))
        return Response(s.NotificationSerializer(notification_mark_read(notification=n)).data)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        user = request.user
        division = perms.user_division_id(user)
        adcode = user.profile.division.adcode if division else None
        return Response(
            s.MeSerializer(
                {
                    "username": user.username,
                    "roles": sorted(perms.user_roles(user)),
                    "division": adcode,
                    "city_wide": perms.is_city_wide(user),
                }
            ).data
        )
