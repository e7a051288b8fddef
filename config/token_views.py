"""The token endpoint: sign in for a fresh token (rotation), revoke it (see config.auth)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import TokenThrottle, UserThrottle, lockout_seconds
from supervision.cases.services.tokens import token_issue, token_revoke


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


TokenOutput = inline_serializer(
    "TokenOutput",
    {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
)
ErrorOutput = inline_serializer("AuthError", {"detail": serializers.CharField(), "code": serializers.CharField()})


class TokenView(APIView):
    """POST: sign in with username and password for a fresh token (the previous one is revoked);
    DELETE: revoke the token in use. Locked out after LOGIN_FAILURE_LIMIT failures (429)."""

    throttle_classes = [TokenThrottle]

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        return [TokenThrottle()] if self.request.method == "POST" else [UserThrottle()]

    @extend_schema(
        request=TokenInput,
        responses={
            200: TokenOutput,
            400: OpenApiResponse(ErrorOutput, description="Wrong username or password (code invalid_credentials)"),
            429: OpenApiResponse(ErrorOutput, description="Locked out (locked_out) or throttled (throttled)"),
        },
        auth=[],
    )
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            django_request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if getattr(django_request, "axes_locked_out", False):
            # AxesMiddleware turns this into lockout_response (429) on the way out; answer the same here.
            return Response(
                {"detail": _("Too many failed sign-ins."), "code": "locked_out"},
                status=429,
                headers={"Retry-After": str(lockout_seconds())},
            )
        if user is None or not user.is_active:
            return Response(
                {"detail": _("Unable to sign in with the given username and password."), "code": "invalid_credentials"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        issued = token_issue(user=user)
        return Response({"token": issued.key, "expires_at": issued.expires_at})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeView(APIView):
    """Revoke the signed-in user's token (same as DELETE auth/token/)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
