from django.urls import path

from . import views

# The lead list (GET /api/v1/leads/, with ?format=geojson and the class/bbox filters) is
# the cases app's view; it is extended there, not duplicated here.
urlpatterns = [
    path("change-layers/", views.ChangeLayerListView.as_view(), name="change-layer-list"),
    path("change-layers/<int:pk>/", views.ChangeLayerDetailView.as_view(), name="change-layer-detail"),
]
