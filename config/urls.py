from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.api import ApiRootView, SchemaAccess, SwaggerView
from config.token_views import TokenRevokeView, TokenView
from config.views import healthz

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/token/revoke/", TokenRevokeView.as_view(), name="api-token-revoke"),
    path("", include("supervision.zoning.api.urls")),
    path("", include("supervision.cases.api.urls")),
    path("", include("supervision.remote_sensing.api.urls")),
    path("assessment/", include("supervision.assessment.api.urls")),
    path("field/", include("supervision.field.api.urls")),
    path("permitting/", include("supervision.permitting.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("zoning/", include("supervision.zoning.urls")),
    path("ogc/", include("supervision.zoning.api.ogc_urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[SchemaAccess]), name="schema"),
    path("api/schema/swagger-ui/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("supervision.field.urls")),
    path("", include("config.web_urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
