from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from supervision.cases import permissions as case_perms

from ..models import EiaApproval
from ..permissions import eia_record_allowed
from ..selectors import target_compliance
from ..services.eia import eia_approval_record, eia_conflicts
from .serializers import EiaApprovalInputSerializer, EiaApprovalSerializer


class CanRecordApprovals(permissions.BasePermission):
    """Reading approvals: any signed-in user; recording one: bureau admins (or the model permission)."""

    message = "Only bureau administrators may record EIA approvals."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return eia_record_allowed(user)


class EiaApprovalListView(generics.ListAPIView):
    """EIA approvals, newest first; `?conflict=true` lists those the access list prohibits or restricts.

    POST records one: its site is assessed against the plan in force on `approved_on`.
    """

    permission_classes = [CanRecordApprovals]
    serializer_class = EiaApprovalSerializer

    @extend_schema(parameters=[OpenApiParameter("conflict", bool, description="only approvals in conflict")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if self.request.query_params.get("conflict") in ("true", "1"):
            return eia_conflicts()
        return EiaApproval.objects.select_related("plan", "target").order_by("-approved_on", "-id")

    @extend_schema(request=EiaApprovalInputSerializer, responses={201: EiaApprovalSerializer})
    def post(self, request):
        data = EiaApprovalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        approval = eia_approval_record(geometry=v.pop("geom"), actor=request.user, **v)
        return Response(EiaApprovalSerializer(approval).data, status=status.HTTP_201_CREATED)


class TargetComplianceView(APIView):
    """A target's compliance history: permit limits and findings, EIA approvals, three years of
    inspections, leads, cases and penalties, CEMS hours above limits, exceedance and gap leads."""

    permission_classes = [case_perms.HasCaseRole]

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        return Response(target_compliance(user=request.user, target_id=pk))
