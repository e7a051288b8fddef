"""Pages: a target's compliance history (企业环境守法档案), the EIA approvals in conflict, and
recording an approval (the API's serializer, permission rule and service)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from supervision.cases.models import EnforcementTarget
from supervision.errors import ServiceError
from supervision.web import case_page, form_problems
from supervision.zoning.choices import ProjectType

from .api.serializers import EiaApprovalInputSerializer
from .choices import EiaKind
from .models import EiaApproval
from .permissions import eia_record_allowed
from .selectors import target_compliance
from .services.eia import eia_approval_record, eia_conflicts


@case_page
@require_GET
def target_compliance_page(request, pk: int):
    history = target_compliance(user=request.user, target_id=pk)
    return render(request, "web/permitting/target_compliance.html", {"web_section": "cases", "h": history})


@case_page
@require_GET
def eia_conflicts_page(request):
    rows = list(eia_conflicts()[:500])
    return render(
        request,
        "web/permitting/eia_conflicts.html",
        {"web_section": "eia", "rows": rows, "can_record": eia_record_allowed(request.user)},
    )


@case_page
@require_GET
def eia_approval_page(request, pk: int):
    approval = get_object_or_404(EiaApproval.objects.select_related("plan", "target"), pk=pk)
    return render(
        request,
        "web/permitting/eia_approval.html",
        {"web_section": "eia", "a": approval, "can_record": eia_record_allowed(request.user)},
    )


@require_http_methods(["GET", "POST"])
def eia_approval_new_page(request):
    """Record an approval: validated by the API's input serializer, recorded (and assessed) by its service."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not eia_record_allowed(request.user):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = EiaApprovalInputSerializer(data=request.POST)
        if not form.is_valid():
            messages.error(request, form_problems(form.errors))
        else:
            v = dict(form.validated_data)
            try:
                approval = eia_approval_record(geometry=v.pop("geom"), actor=request.user, **v)
            except ServiceError as exc:
                messages.error(request, exc.text())
            else:
                messages.success(request, _("Approval %(number)s recorded.") % {"number": approval.document_number})
                return redirect("web:eia-approval", pk=approval.pk)
        status = 400
    return render(
        request,
        "web/permitting/eia_approval_new.html",
        {
            "web_section": "eia",
            "values": request.POST,
            "basemap_url": settings.BASEMAP_URL,
            "basemap_attribution": settings.BASEMAP_ATTRIBUTION,
            "kinds": EiaKind.choices,
            "project_types": ProjectType.choices,
            "targets": EnforcementTarget.objects.order_by("name").only("name", "credit_code")[:1000],
        },
        status=status,
    )
