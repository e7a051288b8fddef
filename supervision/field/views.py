"""Pages of the field app: the field page (an app shell filled from IndexedDB), its manifest and service worker."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from supervision.cases import permissions as perms
from supervision.web import case_page, form_input, service_run

from . import services
from .api.serializers import ChecklistPhotoInput
from .models import FieldPhoto

APP_NAME = "生态环境分区管控监督执法"
SCOPE = "/field/"
# What the service worker precaches: the field page's own assets, so it loads with no network.
SHELL_ASSETS = (
    "css/app.css",
    "css/field.css",
    "img/favicon.svg",
    "img/field-icon-192.png",
    "img/field-icon-512.png",
    "vendor/htmx/htmx.min.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/workbox/workbox-window.prod.umd.js",
    "js/field/store.js",
    "js/field/field.js",
    "js/field/register.js",
)


def _sync_urls() -> dict:
    blank = "00000000-0000-0000-0000-000000000000"  # the device puts its client_id here
    return {
        "packageUrl": reverse("field-package"),
        "answerUrl": reverse("field-answer", args=[blank]),
        "findingUrl": reverse("field-finding", args=[blank]),
        "photoUrl": reverse("field-photo", args=[blank]),
    }


def field_page(request):
    """The inspector's field page: take offline, answer, photograph, verify, sync."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not perms.user_roles(request.user) & perms.READ_ROLES:
        raise PermissionDenied
    config = {
        **_sync_urls(),
        "swUrl": reverse("field-sw"),
        "scope": SCOPE,
        "pageUrl": reverse("field-page"),
        "user": request.user.get_username(),
    }
    return render(request, "field/index.html", {"web_section": "field", "field_config": config, "field_i18n": _texts()})


def _texts() -> dict:
    """The field page's words, translated on the server (the script holds none)."""
    return {
        "online": _("在线"),
        "offline": _("离线"),
        "taking": _("正在离线下载…"),
        "taken": _("离线数据已保存：%(i)s 个检查任务，%(l)s 条线索，%(a)s 个文件。"),
        "takeFailed": _("离线下载失败，请联网后重试。"),
        "saved": _("已保存在本机，联网后同步。"),
        "syncDone": _(
            "同步完成：发送 %(sent)s 条，成功 %(synced)s 条，冲突 %(conflicts)s 条，被拒 %(refused)s 条，待同步 %(left)s 条。"
        ),
        "queued": _("本机待同步 %(n)s 条"),
        "nothingQueued": _("本机无待同步记录"),
        "packageAt": _("离线数据：%(at)s"),
        "synced": _("已同步"),
        "conflict": _("冲突"),
        "refused": _("被拒"),
        "photo": _("照片"),
        "takePhoto": _("拍照"),
        "photosQueued": _("%(n)s 张照片待同步"),
        "serverVersion": _("服务器上的记录"),
        "mine": _("本机记录"),
        "onServer": _("已记录"),
        "queuedHere": _("本机待同步"),
        "result": _("检查结果"),
        "results": {"pass": _("符合"), "fail": _("不符合"), "note": _("备注")},
        "note": _("说明"),
        "save": _("保存"),
        "chooseResult": _("请选择检查结果。"),
        "noteRequired": _("不符合或备注时须填写说明。"),
        "finding": _("现场核查情况"),
        "findingRequired": _("请填写现场核查情况。"),
        "clause": _("条款"),
        "unit": _("管控单元"),
        "until": _("截至"),
        "due": _("核查期限"),
        "coordinates": _("坐标"),
        "chip": _("证据影像"),
        "itemLabel": _("检查 %(i)s 第 %(n)s 项"),
        "noInspections": _("没有待完成的检查任务。"),
        "noLeads": _("没有待核查的线索。"),
    }


def manifest(request):
    """The web app manifest: installable from the field page, opening on it, standalone."""
    data = {
        "name": APP_NAME,
        "short_name": "监督执法",
        "description": _("离线现场检查与线索核查"),
        "lang": "zh-Hans",
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f6fb2",
        "icons": [
            {"src": static("img/field-icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("img/field-icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response


@lru_cache(maxsize=32)
def _revision(path: str) -> str:
    found = finders.find(path)
    if not found:
        return "missing"
    with open(found, "rb") as f:
        return hashlib.md5(f.read(), usedforsecurity=False).hexdigest()[:16]


@never_cache
def service_worker(request):
    """The service worker, at the site root so its scope may cover /field/.

    Workbox (vendored from the npm registry) loads its modules from /static/vendor/workbox/,
    never from a CDN; the worker's logic is the static file js/field/sw.js.
    """
    precache = [{"url": static(p), "revision": _revision(p)} for p in SHELL_ASSETS]
    precache.append({"url": reverse("field-manifest"), "revision": _revision("js/field/sw.js")})
    # Prefixes from STATIC_URL, not static(): a manifest storage knows files, not folders.
    config = {
        "precache": precache,
        "page": reverse("field-page"),
        "staticUrl": settings.STATIC_URL,
        "urls": _sync_urls(),
    }
    body = (
        f"importScripts({json.dumps(static('vendor/workbox/workbox-sw.js'))});\n"
        f"workbox.setConfig({{modulePathPrefix: {json.dumps(settings.STATIC_URL + 'vendor/workbox/')}}});\n"
        f"self.FIELD_SW = {json.dumps(config)};\n"
        f"importScripts({json.dumps(static('js/field/store.js') + '?v=' + _revision('js/field/store.js'))});\n"
        f"importScripts({json.dumps(static('js/field/sw.js') + '?v=' + _revision('js/field/sw.js'))});\n"
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = SCOPE
    return response


def field_photo_file(request, pk: int):
    """A checklist photo taken in the field, for those who may see its inspection."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    photo = FieldPhoto.objects.filter(pk=pk, item__isnull=False).select_related("item").first()
    if (
        photo is None
        or not perms.scope_inspections(
            type(photo.item.inspection).objects.filter(pk=photo.item.inspection_id), request.user
        ).exists()
    ):
        raise Http404
    return FileResponse(photo.file.open("rb"), content_type=photo.content_type)


@case_page
@require_POST
def checklist_photo(request, pk: int, item_id: int):
    """A photo on one item of the online checklist, with the device's position: the field app's rule and service.

    The form carries a client id made when the page was drawn, so a double tap stores the photo once.
    """
    data = request.POST.copy()
    data["inspection"], data["item"] = str(pk), str(item_id)
    data.pop("lead", None)
    v = form_input(request, ChecklistPhotoInput, data=data)
    if v is not None:
        service_run(
            request,
            services.field_photo_sync,
            ok=_("照片已保存。"),
            actor=request.user,
            client_id=v["client_id"],
            file=v["file"],
            inspection_id=pk,
            item_id=item_id,
            caption=v["caption"],
            place=ChecklistPhotoInput.place(v),
        )
    return redirect(reverse("web:inspection-detail", args=[pk]) + f"#photos-{item_id}")
