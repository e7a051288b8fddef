"""API glue shared by every app: error mapping and the public-read permission."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions, permissions
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from supervision.errors import ServiceError, error_lines


def exception_handler(exc, context):
    """ServiceError -> 4xx with a message (and the list of problems, if any)."""
    if isinstance(exc, ServiceError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.problems:
            body["problems"] = exc.problems
        body.update(getattr(exc, "extra", None) or {})
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": "; ".join(exc.messages), "code": "invalid"}, status=400)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(exc, response.data)
    return response


def error_body(exc, data) -> dict:
    """Every DRF error as `{"detail", "code", "problems"}`; a validation error keeps its field keys too."""
    if isinstance(exc, ValidationError):
        problems = error_lines(data)
        body = dict(data) if isinstance(data, dict) else {}
        body.update({"detail": problems[0] if problems else "Invalid input.", "code": "invalid", "problems": problems})
        return body
    detail = data.get("detail", "") if isinstance(data, dict) else data
    code = detail.code if isinstance(detail, ErrorDetail) else getattr(exc, "default_code", "error")
    return {"detail": str(detail), "code": code}


class SchemaAccess(permissions.BasePermission):
    """The OpenAPI schema: signed-in users only, unless PUBLIC_ZONING opens the public end."""

    def has_permission(self, request, view):
        return bool(settings.PUBLIC_ZONING or (request.user and request.user.is_authenticated))


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI (split view: no inline script, for the CSP) under the schema's rule; anonymous users sign in."""

    permission_classes = [SchemaAccess]

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class PublicZoningRead(permissions.BasePermission):
    """Signed-in users read; anonymous users read too when PUBLIC_ZONING is on."""

    def has_permission(self, request, view):
        if request.user and request.user.is_authenticated:
            return (
                request.method in permissions.SAFE_METHODS
                or request.method == "POST"
                and getattr(view, "allow_post_as_read", False)
            )
        return settings.PUBLIC_ZONING and (
            request.method in permissions.SAFE_METHODS or getattr(view, "allow_post_as_read", False)
        )


API_COLLECTIONS = {
    "zoning_plans": "zoning/plans/",
    "zoning_units": "zoning/units/",
    "zoning_lookup": "zoning/lookup/",
    "access_requirements": "zoning/access-requirements/",
    "industries": "zoning/industries/",
    "siting_assessments": "siting-assessments/",
    "leads": "leads/",
    "cases": "cases/",
    "targets": "targets/",
    "change_layers": "change-layers/",
    "inspection_plans": "inspection-plans/",
    "inspections": "inspections/",
    "notifications": "notifications/",
    "assessment_scorecards": "assessment/scorecards/",
    "assessment_ranking": "assessment/ranking/",
    "schema": "/api/schema/",
    "token": "auth/token/",
}


class ApiRootView(APIView):
    """The API's entry point: links to its collections (the OpenAPI schema has the rest)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        base = request.build_absolute_uri("/api/v1/")
        return Response({name: path if path.startswith("/") else base + path for name, path in API_COLLECTIONS.items()})
