"""Every page route of the web application (namespace "web"); the API stays under /api/v1/.

Pages are thin views in each app's `web.py`. The public pages (公众端) live under /public/
and answer 404 unless PUBLIC_ZONING is on.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import path

from supervision.assessment import web as assessment_web
from supervision.cases import web as cases_web
from supervision.permitting import web as permitting_web
from supervision.remote_sensing import web as rs_web
from supervision.zoning import web as zoning_web

app_name = "web"


def home(request):
    """Signed in: the one map; else the public map (when on) or the login page."""
    if request.user.is_authenticated:
        return redirect("web:map")
    if settings.PUBLIC_ZONING:
        return redirect("web:public-map")
    return redirect_to_login("/")


urlpatterns = [
    path("", home, name="home"),
    # 一张图
    path("map/", zoning_web.map_page, name="map"),
    path("map/overlays.json", zoning_web.overlays_geojson, name="overlays"),
    path("map/districts.json", zoning_web.districts_geojson, name="districts"),
    path("map/leads.json", cases_web.map_leads, name="map-leads"),
    path("map/targets.json", cases_web.map_targets, name="map-targets"),
    path("map/units/<slug:plan>/<str:code>/", zoning_web.unit_card, name="unit-card"),
    path("map/units/<slug:plan>/<str:code>/activity/", cases_web.unit_activity, name="unit-activity"),
    path("map/siting/", zoning_web.siting_check, name="siting"),
    path("map/summary/", zoning_web.summary_table, name="summary"),
    # Plan versions: revise, file, publish, diff (planners act; everyone signed in reads)
    path("plans/", zoning_web.plan_list, name="plan-list"),
    path("plans/attachments/<int:pk>/", zoning_web.plan_attachment, name="plan-attachment"),
    path("plans/<slug:code>/", zoning_web.plan_detail, name="plan-detail"),
    path("plans/<slug:code>/diff/<slug:other>/", zoning_web.plan_diff_page, name="plan-diff"),
    path("plans/<slug:code>/parent/", zoning_web.plan_parent, name="plan-parent"),
    path("plans/<slug:code>/<slug:action>/", zoning_web.plan_action, name="plan-action"),
    # Officer's desk
    path("desk/", cases_web.desk, name="desk"),
    path("desk/leads/new/", cases_web.lead_create, name="lead-create"),
    path("desk/leads/<int:pk>/", cases_web.lead_detail, name="lead-detail"),
    path("desk/leads/<int:pk>/geometry.<slug:fmt>", cases_web.lead_geometry, name="lead-geometry"),
    path("desk/leads/<int:pk>/<slug:action>/", cases_web.lead_action, name="lead-action"),
    path("desk/evidence/<int:pk>/", cases_web.evidence_file, name="evidence-file"),
    path("desk/notifications/<int:pk>/", cases_web.notification_open, name="notification-open"),
    path("cases/", cases_web.case_list, name="case-list"),
    path("cases/<int:pk>/", cases_web.case_detail, name="case-detail"),
    path("cases/<int:pk>/<slug:action>/", cases_web.case_action, name="case-action"),
    # Pollution sources (permits, EIA, CEMS)
    path("targets/<int:pk>/compliance/", permitting_web.target_compliance_page, name="target-compliance"),
    path("eia/conflicts/", permitting_web.eia_conflicts_page, name="eia-conflicts"),
    path("eia/approvals/new/", permitting_web.eia_approval_new_page, name="eia-approval-new"),
    path("eia/approvals/<int:pk>/", permitting_web.eia_approval_page, name="eia-approval"),
    # Change layers
    path("layers/", rs_web.layer_list, name="layer-list"),
    path("layers/<int:pk>/", rs_web.layer_detail, name="layer-detail"),
    path("layers/<int:pk>/progress/", rs_web.layer_progress, name="layer-progress"),
    # Inspections (双随机)
    path("inspections/", cases_web.inspection_plan_list, name="inspection-plan-list"),
    path("inspections/plans/<int:pk>/", cases_web.inspection_plan_detail, name="inspection-plan-detail"),
    path("inspections/<int:pk>/", cases_web.inspection_detail, name="inspection-detail"),
    # Assessment (考核)
    path("assessment/", assessment_web.overview, name="assessment"),
    path("assessment/export.<str:fmt>", assessment_web.export, name="assessment-export"),
    path("assessment/scorecards/<int:pk>/", assessment_web.scorecard_detail, name="scorecard-detail"),
    path("assessment/scorecards/<int:pk>/drill/<str:code>/<str:side>/", assessment_web.drill, name="scorecard-drill"),
    path("assessment/districts/<str:adcode>/", assessment_web.district, name="assessment-district"),
    path("assessment/report/", assessment_web.tracking_report_page, name="tracking-report"),
    path("assessment/report.xlsx", assessment_web.tracking_report_xlsx, name="tracking-report-xlsx"),
    # Public (公众端)
    path("public/", zoning_web.map_page, {"public": True}, name="public-map"),
    path("public/overlays.json", zoning_web.overlays_geojson, {"public": True}, name="public-overlays"),
    path("public/districts.json", zoning_web.districts_geojson, {"public": True}, name="public-districts"),
    path("public/units/<slug:plan>/<str:code>/", zoning_web.unit_card, {"public": True}, name="public-unit-card"),
    path("public/siting/", zoning_web.siting_check, {"public": True}, name="public-siting"),
    path("public/summary/", zoning_web.summary_table, {"public": True}, name="public-summary"),
    path("public/cases/", cases_web.public_cases, name="public-cases"),
]
