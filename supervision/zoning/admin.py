from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.contrib.gis.forms.widgets import OpenLayersWidget

from .choices import PlanStatus
from .models import (
    AccessRequirement,
    AdministrativeDivision,
    BottomLineTarget,
    ControlUnit,
    Overlay,
    PlanAttachment,
    PlanEvent,
    PlanRegion,
    PlanUpdate,
    ResourceStatistic,
    SitingAssessment,
    ZoningPlan,
)


class LocalOpenLayersWidget(OpenLayersWidget):
    """The admin map widget with OpenLayers served by the app (intranets have no CDN) and no tile layer."""

    template_name = "gis/openlayers-local.html"

    class Media:
        extend = False
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js")


class PlanEventInline(admin.TabularInline):
    model = PlanEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "comment", "at"]

    def has_add_permission(self, request, obj=None):
        return False


class PlanAttachmentInline(admin.TabularInline):
    model = PlanAttachment
    extra = 0
    readonly_fields = ["uploaded_by", "uploaded_at"]


class PlanUpdateInline(admin.TabularInline):
    model = PlanUpdate
    extra = 0
    readonly_fields = ["actor", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ZoningPlan)
class ZoningPlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region_adcode", "version", "status", "effective_date", "revision_due", "parent"]
    list_filter = ["status"]
    search_fields = ["code", "name"]
    # Status, the filing record and the revision date move only through plan_file / plan_publish.
    readonly_fields = [
        "status",
        "filed_with",
        "approved_by",
        "document_number",
        "filed_date",
        "filed_by",
        "effective_date",
        "revision_due",
        "revision_notified_at",
        "revised_from",
        # The parent moves only through plan_parent_set (the plan page, the API, `plan_parent`), which
        # refuses cycles, a parent outside the jurisdiction and a looser list.
        "parent",
    ]
    inlines = [PlanEventInline, PlanAttachmentInline, PlanUpdateInline]


class DraftContentAdmin:
    """Units, overlays and clauses of a plan that is not a draft are read-only (the database refuses them too)."""

    def _locked(self, obj) -> bool:
        return obj is not None and obj.plan.status != PlanStatus.DRAFT

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._locked(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._locked(obj)


@admin.register(PlanRegion)
class PlanRegionAdmin(DraftContentAdmin, admin.ModelAdmin):
    list_display = ["code", "name", "plan", "division_adcodes"]
    list_filter = ["plan"]
    search_fields = ["code", "name"]


@admin.register(AdministrativeDivision)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["adcode", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["adcode", "name"]


@admin.register(ControlUnit)
class ControlUnitAdmin(DraftContentAdmin, GISModelAdmin):
    gis_widget = LocalOpenLayersWidget
    list_display = ["code", "name", "unit_class", "division", "plan", "area_m2"]
    list_filter = ["plan", "unit_class", "division"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2"]
    list_select_related = ["division", "plan"]


@admin.register(Overlay)
class OverlayAdmin(DraftContentAdmin, GISModelAdmin):
    gis_widget = LocalOpenLayersWidget
    list_display = ["code", "name", "kind", "plan", "area_m2"]
    list_filter = ["plan", "kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2"]


@admin.register(AccessRequirement)
class AccessRequirementAdmin(DraftContentAdmin, admin.ModelAdmin):
    """Clauses are edited through import_access_list, which enforces scopes and the never-looser rule."""

    list_display = ["number", "plan", "level", "scope_code", "dimension", "action", "applies_to", "industry_codes"]
    list_filter = ["plan", "level", "dimension", "action", "applies_to"]
    search_fields = ["number", "scope_code", "text"]
    list_select_related = ["plan"]
    readonly_fields = [
        "plan",
        "level",
        "scope_code",
        "dimension",
        "number",
        "action",
        "industry_codes",
        "applies_to",
        "position",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(SitingAssessment)
class SitingAssessmentAdmin(GISModelAdmin):
    list_display = ["id", "plan", "industry_code", "project_type", "verdict", "red_line", "created_by", "created_at"]
    list_filter = ["plan", "verdict", "project_type", "red_line"]
    search_fields = ["industry_code"]
    list_select_related = ["plan", "created_by"]
    readonly_fields = [
        "plan",
        "industry_code",
        "project_type",
        "verdict",
        "red_line",
        "result",
        "created_by",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(BottomLineTarget)
class BottomLineTargetAdmin(admin.ModelAdmin):
    """Targets come from import_bottom_lines; shown here to read and audit."""

    list_display = ["plan", "scope_code", "indicator", "station_code", "target_year", "target_value", "unit_label"]
    list_filter = ["plan", "indicator", "target_year", "illustrative"]
    search_fields = ["scope_code", "station_code"]


@admin.register(ResourceStatistic)
class ResourceStatisticAdmin(admin.ModelAdmin):
    list_display = ["division", "indicator", "year", "value", "unit_label", "source"]
    list_filter = ["indicator", "year"]
