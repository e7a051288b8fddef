from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from supervision.zoning.admin import LocalOpenLayersWidget

from .models import (
    ApiToken,
    Case,
    CaseEvent,
    ChecklistItem,
    EnforcementTarget,
    Evidence,
    Inspection,
    InspectionEvent,
    InspectionPlan,
    InspectionPlanEvent,
    Lead,
    LeadEvent,
    Notification,
    UserProfile,
)


class ReadOnlyAdminMixin:
    """Audit rows: visible, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LeadEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LeadEvent
    extra = 0
    fields = ["at", "kind", "from_status", "to_status", "actor", "comment"]
    readonly_fields = fields


class CaseEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseEvent
    extra = 0
    fields = ["at", "kind", "from_status", "to_status", "escalation_level", "actor", "comment"]
    readonly_fields = fields


@admin.register(EnforcementTarget)
class EnforcementTargetAdmin(GISModelAdmin):
    gis_widget = LocalOpenLayersWidget
    list_display = ["name", "credit_code", "permit_class", "industry_code", "division", "unit"]
    list_filter = ["permit_class", "division"]
    search_fields = ["name", "credit_code", "permit_number"]
    raw_id_fields = ["unit"]


@admin.register(Lead)
class LeadAdmin(GISModelAdmin):
    gis_widget = LocalOpenLayersWidget
    list_display = ["id", "title", "source", "status", "division", "verification_due_at", "detected_at"]
    list_filter = ["status", "source", "division"]
    search_fields = ["title", "description"]
    # Status and workflow columns move only through the services (events are kept).
    readonly_fields = [
        "status",
        "dispatched_at",
        "verification_due_at",
        "concluded_at",
        "merged_into",
        "dismiss_code",
        "dismiss_reason",
        "created_by",
    ]
    raw_id_fields = ["unit", "target", "plan"]
    inlines = [LeadEventInline]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "status", "division", "rectification_due_at", "escalation_level"]
    list_filter = ["status", "escalation_level", "division"]
    search_fields = ["number", "title"]
    readonly_fields = [
        "lead",
        "status",
        "opened_at",
        "rectification_ordered_at",
        "rectification_due_at",
        "submitted_at",
        "accepted_at",
        "escalation_level",
        "escalated_at",
        "penalty_decided_at",
        "police_transferred_at",
        "published_at",
    ]
    raw_id_fields = ["unit", "target", "plan"]
    inlines = [CaseEventInline]


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["lead", "at", "kind", "from_status", "to_status", "actor"]
    list_filter = ["kind", "to_status"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "at", "kind", "from_status", "to_status", "escalation_level", "actor"]
    list_filter = ["kind", "to_status"]


@admin.register(InspectionPlanEvent)
class InspectionPlanEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["inspection_plan", "at", "from_status", "to_status", "actor"]


@admin.register(InspectionEvent)
class InspectionEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["inspection", "at", "from_status", "to_status", "actor"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "lead", "case", "kind", "content_type", "size_bytes", "uploaded_by", "created_at"]


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "division", "city_wide"]
    list_filter = ["city_wide", "division"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["recipient", "kind", "subject", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    readonly_fields = ["position", "requirement_number", "dimension", "text", "result", "note", "lead"]
    can_delete = False


@admin.register(InspectionPlan)
class InspectionPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "division", "period_start", "period_end", "status", "seed"]
    readonly_fields = [
        "status",
        "seed",
        "target_pool",
        "inspector_pool",
        "draw_result",
        "algorithm",
        "drawn_at",
        "published_at",
    ]


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["inspection_plan", "draw_order", "target", "division", "status"]
    readonly_fields = ["status", "started_at", "completed_at"]
    inlines = [ChecklistItemInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens by prefix, user and issue time: the key is never stored, the digest not shown.
    Deleting one revokes it; new tokens come only from signing in (the key is shown once, then)."""

    list_display = ["prefix", "user", "created"]
    search_fields = ["prefix", "user__username"]
    fields = ["prefix", "user", "created"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
