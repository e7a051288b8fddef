from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import obtain_auth_token

from config.api import ApiRootView
from config.views import healthz

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("", include("supervision.zoning.api.urls")),
    path("", include("supervision.cases.api.urls")),
    path("", include("supervision.remote_sensing.api.urls")),
    path("assessment/", include("supervision.assessment.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("zoning/", include("supervision.zoning.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/swagger-ui/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("config.web_urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
