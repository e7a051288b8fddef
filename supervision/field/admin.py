from django.contrib import admin

from .models import FieldPhoto, FieldRecord


@admin.register(FieldRecord)
class FieldRecordAdmin(admin.ModelAdmin):
    """Read-only: what devices synced, to trace a disputed answer."""

    list_display = ("client_id", "kind", "user", "inspection", "item", "lead", "recorded_at", "received_at")
    list_filter = ("kind",)
    search_fields = ("client_id", "user__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FieldPhoto)
class FieldPhotoAdmin(admin.ModelAdmin):
    list_display = ("record", "item", "evidence", "latitude", "longitude", "accuracy_m", "taken_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
