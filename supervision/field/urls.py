"""Field app pages. The service worker lives at /sw.js so that its scope can cover /field/."""

from django.urls import path

from . import views

urlpatterns = [
    path("field/", views.field_page, name="field-page"),
    path("field/photos/<int:pk>/", views.field_photo_file, name="field-photo-file"),
    path("inspections/<int:pk>/items/<int:item_id>/photo/", views.checklist_photo, name="checklist-photo"),
    path("sw.js", views.service_worker, name="field-sw"),
    path("manifest.webmanifest", views.manifest, name="field-manifest"),
]
