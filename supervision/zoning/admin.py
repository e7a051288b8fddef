from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from .models import AdministrativeDivision, ControlUnit, Overlay, PlanEvent, ZoningPlan


class PlanEventInline(admin.TabularInline):
    model = PlanEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "comment", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ZoningPlan)
class ZoningPlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region_adcode", "version", "status", "effective_date"]
    list_filter = ["status"]
    search_fields = ["code", "name"]
    readonly_fields = ["status"]
    inlines = [PlanEventInline]


@admin.register(AdministrativeDivision)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["adcode", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["adcode", "name"]


@admin.register(ControlUnit)
class ControlUnitAdmin(GISModelAdmin):
    list_display = ["code", "name", "unit_class", "division", "plan", "area_m2"]
    list_filter = ["plan", "unit_class", "division"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2"]
    list_select_related = ["division", "plan"]


@admin.register(Overlay)
class OverlayAdmin(GISModelAdmin):
    list_display = ["code", "name", "kind", "plan", "area_m2"]
    list_filter = ["plan", "kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2"]
