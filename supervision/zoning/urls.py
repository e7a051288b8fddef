"""HTML pages of the zoning app (mounted at /zoning/ in config/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "siting-assessments/<uuid:pk>/report/",
        views.siting_report,
        name="siting-report",
    ),
]
