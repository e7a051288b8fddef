"""Pages: a target's compliance history (企业环境守法档案) and the EIA approvals in conflict."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from supervision.cases.web import case_page

from .selectors import target_compliance
from .services.eia import eia_conflicts


@case_page
@require_GET
def target_compliance_page(request, pk: int):
    history = target_compliance(user=request.user, target_id=pk)
    return render(request, "web/permitting/target_compliance.html", {"web_section": "cases", "h": history})


@case_page
@require_GET
def eia_conflicts_page(request):
    rows = list(eia_conflicts()[:500])
    return render(request, "web/permitting/eia_conflicts.html", {"web_section": "cases", "rows": rows})
