from django.urls import path

from . import views as v

urlpatterns = [
    path("package/", v.FieldPackageView.as_view(), name="field-package"),
    path("sync/", v.FieldSyncView.as_view(), name="field-sync"),
    path("answers/<uuid:client_id>/", v.FieldAnswerView.as_view(), name="field-answer"),
    path("findings/<uuid:client_id>/", v.FieldFindingView.as_view(), name="field-finding"),
    path("photos/<uuid:client_id>/", v.FieldPhotoView.as_view(), name="field-photo"),
]
