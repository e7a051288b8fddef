from django.urls import path

from . import views as v
from .downloads import EvidenceDownloadView

urlpatterns = [
    path("me/", v.MeView.as_view(), name="cases-me"),
    path("leads/", v.LeadListView.as_view(), name="lead-list"),
    path("leads/<int:pk>/", v.LeadDetailView.as_view(), name="lead-detail"),
    path("leads/<int:pk>/dispatch/", v.LeadDispatchView.as_view(), name="lead-dispatch"),
    path("leads/<int:pk>/start-verification/", v.LeadStartVerificationView.as_view(), name="lead-start-verification"),
    path("leads/<int:pk>/dismiss/", v.LeadDismissView.as_view(), name="lead-dismiss"),
    path("leads/<int:pk>/merge/", v.LeadMergeView.as_view(), name="lead-merge"),
    path("leads/<int:pk>/confirm/", v.LeadConfirmView.as_view(), name="lead-confirm"),
    path("leads/<int:pk>/attachments/", v.LeadAttachView.as_view(), name="lead-attachments"),
    path("attachments/<int:pk>/download/", EvidenceDownloadView.as_view(), name="attachment-download"),
    path("cases/", v.CaseListView.as_view(), name="case-list"),
    path("cases/<int:pk>/", v.CaseDetailView.as_view(), name="case-detail"),
    path(
        "cases/<int:pk>/order-rectification/", v.CaseOrderRectificationView.as_view(), name="case-order-rectification"
    ),
    path("cases/<int:pk>/name-party/", v.CaseNamePartyView.as_view(), name="case-name-party"),
    path("cases/<int:pk>/assign/", v.CaseAssignView.as_view(), name="case-assign"),
    path("leads/<int:pk>/assign/", v.LeadAssignView.as_view(), name="lead-assign"),
    path(
        "cases/<int:pk>/submit-rectification/",
        v.CaseSubmitRectificationView.as_view(),
        name="case-submit-rectification",
    ),
    path("cases/<int:pk>/accept/", v.CaseAcceptView.as_view(), name="case-accept"),
    path("cases/<int:pk>/return/", v.CaseReturnView.as_view(), name="case-return"),
    path("cases/<int:pk>/penalty/", v.CasePenaltyView.as_view(), name="case-penalty"),
    path("cases/<int:pk>/transfer-to-police/", v.CasePoliceTransferView.as_view(), name="case-transfer-to-police"),
    path("cases/<int:pk>/publish/", v.CasePublishView.as_view(), name="case-publish"),
    path("cases/<int:pk>/attachments/", v.CaseAttachView.as_view(), name="case-attachments"),
    path("public/typical-cases/", v.TypicalCaseListView.as_view(), name="typical-case-list"),
    path("public/inspection-plans/", v.PublicInspectionPlanListView.as_view(), name="public-inspection-plan-list"),
    path("targets/", v.TargetListView.as_view(), name="target-list"),
    path("targets/<int:pk>/", v.TargetDetailView.as_view(), name="target-detail"),
    path("inspection-plans/", v.InspectionPlanListView.as_view(), name="inspection-plan-list"),
    path("inspection-plans/<int:pk>/", v.InspectionPlanDetailView.as_view(), name="inspection-plan-detail"),
    path("inspection-plans/<int:pk>/draw/", v.InspectionPlanDrawView.as_view(), name="inspection-plan-draw"),
    path("inspection-plans/<int:pk>/publish/", v.InspectionPlanPublishView.as_view(), name="inspection-plan-publish"),
    path("inspection-plans/<int:pk>/verify/", v.InspectionPlanVerifyView.as_view(), name="inspection-plan-verify"),
    path("inspections/", v.InspectionListView.as_view(), name="inspection-list"),
    path("inspections/<int:pk>/", v.InspectionDetailView.as_view(), name="inspection-detail"),
    path("inspections/<int:pk>/start/", v.InspectionStartView.as_view(), name="inspection-start"),
    path("inspections/<int:pk>/complete/", v.InspectionCompleteView.as_view(), name="inspection-complete"),
    path(
        "inspections/<int:pk>/items/<int:item_id>/record/",
        v.ChecklistItemRecordView.as_view(),
        name="inspection-item-record",
    ),
    path("notifications/", v.NotificationListView.as_view(), name="notification-list"),
    path("notifications/<int:pk>/read/", v.NotificationReadView.as_view(), name="notification-read"),
]
