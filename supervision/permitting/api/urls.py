from django.urls import path

from . import views

urlpatterns = [
    path("eia-approvals/", views.EiaApprovalListView.as_view(), name="eia-approval-list"),
    path("targets/<int:pk>/compliance/", views.TargetComplianceView.as_view(), name="target-compliance"),
]
