"""/ogc/ routes; paths are accepted with or without a trailing slash, as OGC clients vary."""

from django.urls import path, re_path

from . import ogc

app_name = "ogc"
urlpatterns = [
    path("", ogc.LandingView.as_view(), name="landing"),
    re_path(r"^conformance/?$", ogc.ConformanceView.as_view(), name="conformance"),
    re_path(r"^collections/?$", ogc.CollectionsView.as_view(), name="collections"),
    re_path(r"^collections/(?P<collection>[^/]+)/?$", ogc.CollectionView.as_view(), name="collection"),
    re_path(r"^collections/(?P<collection>[^/]+)/items/?$", ogc.ItemsView.as_view(), name="items"),
    re_path(r"^collections/(?P<collection>[^/]+)/items/(?P<feature_id>[^/]+)/?$", ogc.ItemView.as_view(), name="item"),
]
