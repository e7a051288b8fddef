from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from .. import selectors
from ..permissions import layer_upload_allowed
from ..services.layers import layer_submit
from .serializers import ChangeLayerSerializer, ChangeLayerUploadSerializer


class CanUploadLayers(permissions.BasePermission):
    """Reading layers: any signed-in user; uploading: bureau admins (or the model permission)."""

    message = _("Only bureau administrators may upload change layers.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return layer_upload_allowed(user)


class ChangeLayerListView(generics.ListAPIView):
    """Change layers, newest first (filter: plan); POST uploads a GeoTIFF and queues its scan."""

    permission_classes = [CanUploadLayers]
    serializer_class = ChangeLayerSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields: list[str] = []

    def get_queryset(self):
        return selectors.layers_list(plan_code=self.request.query_params.get("plan"))

    @extend_schema(
        request=ChangeLayerUploadSerializer, responses={201: ChangeLayerSerializer, 200: ChangeLayerSerializer}
    )
    def post(self, request):
        data = ChangeLayerUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reg = layer_submit(values=data.validated_data, actor=request.user)
        # The same file again: the existing layer, 200 instead of 201 (nothing new was made).
        return Response(
            ChangeLayerSerializer(reg.layer).data, status=status.HTTP_201_CREATED if reg.created else status.HTTP_200_OK
        )


class ChangeLayerDetailView(generics.RetrieveAPIView):
    """One change layer: status (queued → running → done | failed), progress %, error and lead counts."""

    permission_classes = [CanUploadLayers]
    serializer_class = ChangeLayerSerializer

    def get_queryset(self):
        return selectors.layers_list()
