"""Schemes are edited here; a scheme used by a published scorecard is read-only (copy it to a new version)."""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from . import services
from .models import AssessmentScheme, BottomLineStatus, Indicator, Official, Scorecard, ScorecardIndicator


class IndicatorFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.pk and self.instance.in_use():
            raise ValidationError(
                f"方案第 {self.instance.version} 版已被已发布的考核结果使用，不能修改；请复制为新版本。"
            )
        weights, params = {}, {}
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            weights[form.cleaned_data["code"]] = Decimal(form.cleaned_data["weight"])
            params[form.cleaned_data["code"]] = form.cleaned_data.get("params") or {}
        problems = services.scheme_problems(weights=weights, params=params)
        if problems:
            raise ValidationError(problems)


class IndicatorInline(admin.TabularInline):
    model = Indicator
    formset = IndicatorFormSet
    extra = 0
    fields = ["position", "code", "weight", "params"]

    def _locked(self, obj):
        return obj is not None and obj.in_use()

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(admin.ModelAdmin):
    list_display = ["version", "name", "locked_at", "in_use_display"]
    inlines = [IndicatorInline]
    actions = ["copy_as_new_version"]
    readonly_fields = ["locked_at", "created_at"]

    @admin.display(description="已用于已发布结果", boolean=True)
    def in_use_display(self, obj):
        return obj.in_use()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.in_use():
            return ["version", "name", "notes", "locked_at", "created_at"]
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.in_use()) and super().has_delete_permission(request, obj)

    @admin.action(description="复制为新版本")
    def copy_as_new_version(self, request, queryset):
        for scheme in queryset:
            new = services.scheme_copy(scheme=scheme)
            self.message_user(request, f"已复制第 {scheme.version} 版为第 {new.version} 版。", messages.SUCCESS)


@admin.register(Official)
class OfficialAdmin(admin.ModelAdmin):
    list_display = ["name", "division", "role", "title", "term_start", "term_end"]
    list_filter = ["role", "division"]
    search_fields = ["name", "title"]


class ScorecardIndicatorInline(admin.TabularInline):
    model = ScorecardIndicator
    extra = 0
    fields = ["code", "numerator", "denominator", "applicable", "value", "weight", "effective_weight", "points"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    """Read-only: scorecards are computed, published and corrected through the services (API, commands)."""

    list_display = ["division", "period_code", "version", "status", "score", "scheme", "published_at"]
    list_filter = ["status", "period_code", "plan"]
    inlines = [ScorecardIndicatorInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BottomLineStatus)
class BottomLineStatusAdmin(admin.ModelAdmin):
    """Read-only: statuses are computed by track_bottom_lines (the beat task, the API)."""

    list_display = ["target", "period_code", "status", "measured_value", "target_value", "measured_until"]
    list_filter = ["status", "period_kind", "target__indicator"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
