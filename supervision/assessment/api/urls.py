"""Mounted at /api/v1/assessment/ by config/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("schemes/", views.SchemeListView.as_view(), name="assessment-scheme-list"),
    path("schemes/<int:version>/", views.SchemeDetailView.as_view(), name="assessment-scheme-detail"),
    path("scorecards/", views.ScorecardListView.as_view(), name="assessment-scorecard-list"),
    path("scorecards/<int:pk>/", views.ScorecardDetailView.as_view(), name="assessment-scorecard-detail"),
    path(
        "scorecards/<int:pk>/indicators/<str:code>/<str:side>/",
        views.DrillDownView.as_view(),
        name="assessment-scorecard-drilldown",
    ),
    path("scorecards/<int:pk>/publish/", views.PublishView.as_view(), name="assessment-scorecard-publish"),
    path("scorecards/<int:pk>/correct/", views.CorrectView.as_view(), name="assessment-scorecard-correct"),
    path("ranking/", views.RankingView.as_view(), name="assessment-ranking"),
    path("officials/", views.OfficialsView.as_view(), name="assessment-officials"),
    path("compute/", views.ComputeView.as_view(), name="assessment-compute"),
    path("export/", views.ExportView.as_view(), name="assessment-export"),
    path("bottom-lines/", views.BottomLineListView.as_view(), name="assessment-bottom-lines"),
    path("bottom-lines/track/", views.BottomLineTrackView.as_view(), name="assessment-bottom-lines-track"),
    path("report/", views.TrackingReportView.as_view(), name="assessment-report"),
]
