from django.urls import path

from . import tiles, views

urlpatterns = [
    path("zoning/plans/", views.PlanListView.as_view(), name="plan-list"),
    path("zoning/plans/<slug:code>/", views.PlanDetailView.as_view(), name="plan-detail"),
    path("zoning/plans/<slug:code>/summary/", views.PlanSummaryView.as_view(), name="plan-summary"),
    path("zoning/plans/<slug:code>/export/", views.PlanExportView.as_view(), name="plan-export"),
    path("zoning/units/at/", tiles.UnitAtView.as_view(), name="unit-at"),
    path("tiles/<str:layer>/<int:z>/<int:x>/<int:y>.pbf", tiles.TileView.as_view(), name="tile"),
    path("zoning/plans/<slug:code>/revise/", views.PlanReviseView.as_view(), name="plan-revise"),
    path("zoning/plans/<slug:code>/file/", views.PlanFileView.as_view(), name="plan-file"),
    path("zoning/plans/<slug:code>/publish/", views.PlanPublishView.as_view(), name="plan-publish"),
    path("zoning/plans/<slug:code>/parent/", views.PlanParentView.as_view(), name="plan-parent"),
    path("zoning/plans/<slug:code>/updates/", views.PlanUpdateView.as_view(), name="plan-update"),
    path("zoning/plans/<slug:code>/diff/<slug:other>/", views.PlanDiffView.as_view(), name="plan-diff"),
    path("zoning/units/", views.UnitListView.as_view(), name="unit-list"),
    path("zoning/units/<slug:plan>/<str:code>/", views.UnitDetailView.as_view(), name="unit-detail"),
    path("zoning/lookup/", views.LookupView.as_view(), name="zoning-lookup"),
    path("zoning/access-requirements/", views.AccessRequirementListView.as_view(), name="access-requirement-list"),
    path("zoning/industries/", views.IndustrySearchView.as_view(), name="industry-search"),
    path("siting-assessments/", views.SitingAssessmentCreateView.as_view(), name="siting-assessment-create"),
    path("siting-assessments/<uuid:pk>/", views.SitingAssessmentDetailView.as_view(), name="siting-assessment-detail"),
]
