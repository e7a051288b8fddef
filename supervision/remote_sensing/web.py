"""Pages of the remote_sensing app: change layers — upload a GeoTIFF, watch the scan's progress, see its leads.

Upload calls `services.layers.layer_upload` then `layer_scan` (queued after commit; with
CELERY_TASK_ALWAYS_EAGER the whole scan runs within the request). The detail page polls
`layer_progress` (an htmx fragment) while the layer is queued or running.

Who: every role that reads leads sees layers; bureau admins upload (`permissions.layer_upload_allowed`, as the API).
Leads listed here go through the cases app's scope (an officer sees their district's only).
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from supervision.cases import selectors as case_selectors
from supervision.errors import ServiceError
from supervision.web import case_page, form_problems
from supervision.zoning.models import ZoningPlan

from . import selectors
from .api.serializers import ChangeLayerUploadSerializer
from .choices import LayerKind, LayerStatus
from .models import ChangeLayer
from .permissions import layer_upload_allowed
from .services import layers as layer_services

STEPS = [LayerStatus.QUEUED, LayerStatus.RUNNING, LayerStatus.DONE]


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@case_page
def layer_list(request):
    """Change layers with status and counts, and the upload form (officers, bureau admins)."""
    can_upload = layer_upload_allowed(request.user)
    if request.method == "POST":
        if not can_upload:
            raise PermissionDenied
        return _upload(request)
    return render(
        request,
        "web/remote_sensing/layers.html",
        {
            "web_section": "layers",
            "layers": selectors.layers_list().order_by("-created_at", "-id")[:100],
            "can_upload": can_upload,
            "plans": ZoningPlan.objects.order_by("code"),
            "kinds": LayerKind.choices,
        },
    )


def _upload(request):
    """The API's upload: the same serializer, the same service, the same re-scan rule."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    data = request.POST.copy()  # a QueryDict, so the serializer reads empty form fields as "not given"
    data.update(request.FILES)
    form = ChangeLayerUploadSerializer(data=data)
    error = None
    layer = None
    if not form.is_valid():
        error = form_problems(form.errors)
    else:
        try:
            layer = layer_services.layer_submit(values=form.validated_data, actor=request.user).layer
        except ServiceError as exc:
            error = exc.text()
    if error:
        if wants_json:
            return JsonResponse({"error": error}, status=400)
        messages.error(request, error)
        return redirect("web:layer-list")
    url = reverse("web:layer-detail", args=[layer.pk])
    if wants_json:
        return JsonResponse({"id": layer.pk, "url": url}, status=201)
    return redirect(url)


def _progress_context(layer: ChangeLayer) -> dict:
    reached = {e.to_status: e.at for e in layer.events.all()}
    order = {s: i for i, s in enumerate(STEPS)}
    current = order.get(layer.status, len(STEPS))
    steps = []
    for s in STEPS:
        state = (
            "done" if order[s] < current or layer.status == LayerStatus.DONE else ("on" if s == layer.status else "")
        )
        steps.append({"status": s, "label": LayerStatus(s).label, "state": state, "at": reached.get(s)})
    return {
        "layer": layer,
        "steps": steps,
        "progress": layer.progress,
        "polling": layer.status in (LayerStatus.QUEUED, LayerStatus.RUNNING),
        "leads_url": reverse("web:desk") + f"?layer=change_layer:{layer.pk}",
    }


@case_page
@require_GET
def layer_detail(request, pk: int):
    layer = ChangeLayer.objects.select_related("plan").filter(pk=pk).first()
    if layer is None:
        raise Http404
    leads = (
        case_selectors.leads_for(user=request.user)
        .filter(layer_ref=f"change_layer:{layer.pk}")
        .order_by("-area_m2")[:50]
    )
    return render(
        request,
        "web/remote_sensing/layer_detail.html",
        {
            **_progress_context(layer),
            "web_section": "layers",
            "leads": leads,
            "can_upload": layer_upload_allowed(request.user),
        },
    )


@case_page
@require_GET
def layer_progress(request, pk: int):
    """The progress bar and steps, polled by the detail page (htmx) while the scan runs."""
    layer = ChangeLayer.objects.filter(pk=pk).first()
    if layer is None:
        raise Http404
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "id": layer.pk,
                "status": layer.status,
                "progress": layer.progress,
                "windows_done": layer.windows_done,
                "windows_total": layer.windows_total,
                "leads_created": layer.leads_created,
                "error": layer.error,
                "labels": {s.value: str(s.label) for s in LayerStatus},
            }
        )
    response = render(request, "web/remote_sensing/_progress.html", _progress_context(layer))
    if layer.status in (LayerStatus.DONE, LayerStatus.FAILED):
        # Tell htmx to reload the page once so the lead list appears.
        response["HX-Trigger"] = "layer-finished"
    return response
