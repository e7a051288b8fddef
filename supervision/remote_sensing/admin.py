from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from .models import (
    ChangeLayer,
    ChangeLayerEvent,
    GridLayer,
    MonitoringReading,
    MonitoringStation,
    ScanRuleSet,
    UnitZonalStat,
)


class ChangeLayerEventInline(admin.TabularInline):
    model = ChangeLayerEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "comment", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChangeLayer)
class ChangeLayerAdmin(admin.ModelAdmin):
    """Read-mostly: layers are registered and scanned through the API, the inbox or the CLI."""

    list_display = ["id", "name", "plan", "kind", "status", "progress", "leads_created", "leads_repeated", "created_at"]
    list_filter = ["status", "kind", "plan"]
    search_fields = ["name", "checksum"]
    readonly_fields = [f.name for f in ChangeLayer._meta.fields]
    inlines = [ChangeLayerEventInline]

    def has_add_permission(self, request):
        return False


@admin.register(ScanRuleSet)
class ScanRuleSetAdmin(admin.ModelAdmin):
    list_display = ["plan", "min_area_m2", "ndvi_threshold", "decline_margin_pct", "updated_at"]


@admin.register(MonitoringStation)
class MonitoringStationAdmin(GISModelAdmin):
    list_display = ["code", "name", "medium", "target_grade", "division"]
    list_filter = ["medium"]
    search_fields = ["code", "name"]


@admin.register(MonitoringReading)
class MonitoringReadingAdmin(admin.ModelAdmin):
    list_display = ["station", "parameter", "observed_on", "averaging", "value", "unit"]
    list_filter = ["parameter", "averaging"]
    search_fields = ["station__code"]
    date_hierarchy = "observed_on"


class UnitZonalStatInline(admin.TabularInline):
    model = UnitZonalStat
    extra = 0
    readonly_fields = ["unit", "mean", "valid_pixels"]
    can_delete = False


@admin.register(GridLayer)
class GridLayerAdmin(admin.ModelAdmin):
    list_display = ["plan", "parameter", "period_start", "period_end", "name"]
    list_filter = ["parameter", "plan"]
    inlines = [UnitZonalStatInline]
