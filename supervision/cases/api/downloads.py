"""`GET /api/v1/attachments/<id>/download/`: an attachment's file, for users who may see its lead or case."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from .. import permissions as perms
from ..downloads import evidence_file_response, evidence_get_for


class EvidenceDownloadView(APIView):
    """The file (JPEG, PNG inline; PDF inline; anything else as a download), with nosniff.

    404 for an attachment outside the user's scope, exactly as for one that does not exist,
    and `file_missing` when the stored file is gone; 401/403 when not signed in.
    """

    permission_classes = [perms.HasCaseRole]

    @extend_schema(
        operation_id="attachment_download",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            404: OpenApiResponse(description="No such attachment in your scope, or its file is missing."),
        },
    )
    def get(self, request, pk: int):
        return evidence_file_response(evidence_get_for(user=request.user, evidence_id=pk))
