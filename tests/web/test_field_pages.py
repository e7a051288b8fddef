"""The field app's pages without a browser: who may open it, the manifest, the service worker, the package."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from tests.cases.conftest import PNG  # noqa: E402  (a real, decodable PNG)
from tests.web.conftest import PASSWORD


def served(url: str) -> bool:
    """A URL the app answers: a static file the finders locate, or a page with 200."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    if url.startswith(settings.STATIC_URL):
        return bool(finders.find(url[len(settings.STATIC_URL) :]))
    return Client().get(url).status_code == 200


def client_for(username: str | None) -> Client:
    c = Client()
    if username:
        assert c.login(username=username, password=PASSWORD)
    return c


@pytest.mark.parametrize(
    ("username", "status"),
    [(None, 302), ("planner_w", 403), ("inspector_w", 200), ("officer_a", 200), ("admin_w", 200)],
)
def test_field_page_needs_a_case_role(world, username, status):
    assert client_for(username).get("/field/").status_code == status


def test_field_page_is_an_app_shell_without_inline_script(world):
    html = client_for("inspector_w").get("/field/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    assert 'id="field-take-offline"' in html and 'id="field-sync-now"' in html
    # CSP script-src 'self': every <script> is a file or a json_script data block.
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
        assert "src=" not in attrs or not body.strip()


def test_manifest_makes_the_field_page_installable(world):
    r = Client().get("/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/manifest+json")
    m = r.json()
    assert m["name"] == "生态环境分区管控监督执法"
    assert (m["start_url"], m["scope"], m["display"]) == ("/field/", "/field/", "standalone")
    sizes = {i["sizes"] for i in m["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in m["icons"]:
        assert served(icon["src"]), icon


def test_service_worker_loads_workbox_from_the_app_only(world):
    r = Client().get("/sw.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/field/"
    body = r.content.decode()
    assert 'importScripts("/static/vendor/workbox/workbox-sw.js")' in body
    assert 'modulePathPrefix: "/static/vendor/workbox/"' in body
    assert "http://" not in body and "https://" not in body
    for url in re.findall(r'"url": "([^"]+)"', body) + re.findall(r'importScripts\("([^"?]+)', body):
        assert served(url), url


def test_package_carries_chips_and_basemap_tiles(world, settings):
    from django.core.files.base import ContentFile

    from supervision.cases.models import Evidence, Inspection
    from supervision.cases.services import inspections as svc
    from supervision.cases.services.leads import lead_dispatch

    settings.BASEMAP_URL = "https://{s}.tiles.example.test/{z}/{x}/{y}.png"
    plan = svc.inspection_plan_create(
        actor=world.users["admin"],
        name="抽查",
        zoning_plan=world.plan,
        division=world.divisions["a"],
        period_start="2025-01-01",
        period_end="2025-03-31",
        target_count=1,
    )
    insp = Inspection.objects.create(
        inspection_plan=plan, target=world.target, division=world.divisions["a"], unit=world.units["a1"], draw_order=1
    )
    insp.inspectors.set([world.users["inspector"]])
    svc.checklist_generate(inspection=insp)
    lead = lead_dispatch(lead=world.leads["a"], actor=world.users["officer_a"])
    chip = Evidence.objects.create(
        lead=lead, kind="chip", file=ContentFile(PNG, name="chip.png"), content_type="image/png", size_bytes=len(PNG)
    )
    officer = client_for("officer_a").get("/api/v1/field/package/").json()
    assert [x["id"] for x in officer["leads"]] == [lead.pk]
    assert officer["leads"][0]["chips"][0]["url"] == f"/desk/evidence/{chip.pk}/"
    assert officer["leads"][0]["unit"]["geometry"]["type"] == "MultiPolygon"
    assert f"/desk/evidence/{chip.pk}/" in officer["assets"]
    tiles = officer["basemap"]["tiles"]
    # 3 × 3 tiles at each of four zooms around the one site.
    assert len(tiles) == 36 and all(
        re.match(r"https://[abc]\.tiles\.example\.test/1[3-6]/\d+/\d+\.png", t) for t in tiles
    )
    inspector = client_for("inspector_w").get("/api/v1/field/package/").json()
    assert [x["id"] for x in inspector["inspections"]] == [insp.pk]
    assert inspector["inspections"][0]["unit"]["code"] == "ZH22010210001"
    assert len(inspector["inspections"][0]["items"]) == 2
    # The other district's officer takes none of it.
    other = client_for("officer_b").get("/api/v1/field/package/").json()
    assert other["leads"] == [] and other["inspections"] == []


def test_field_photo_file_is_scoped(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from supervision.cases.models import Inspection
    from supervision.cases.services import inspections as svc
    from supervision.field.models import FieldPhoto

    plan = svc.inspection_plan_create(
        actor=world.users["admin"],
        name="抽查",
        zoning_plan=world.plan,
        division=world.divisions["a"],
        period_start="2025-01-01",
        period_end="2025-03-31",
        target_count=1,
    )
    insp = Inspection.objects.create(
        inspection_plan=plan, target=world.target, division=world.divisions["a"], unit=world.units["a1"], draw_order=1
    )
    insp.inspectors.set([world.users["inspector"]])
    svc.checklist_generate(inspection=insp)
    item = insp.items.first()

    r = client_for("inspector_w").put(
        f"/api/v1/field/photos/{uuid.uuid4()}/",
        data=_multipart(
            {"inspection": insp.pk, "item": item.pk, "file": SimpleUploadedFile("a.png", PNG, "image/png")}
        ),
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )
    assert r.status_code == 201, r.content
    photo = FieldPhoto.objects.get()
    assert b"".join(client_for("inspector_w").get(f"/field/photos/{photo.pk}/").streaming_content) == PNG
    assert client_for("officer_a").get(f"/field/photos/{photo.pk}/").status_code == 200
    assert client_for("officer_b").get(f"/field/photos/{photo.pk}/").status_code == 404


def _multipart(fields: dict) -> bytes:
    from django.test.client import encode_multipart

    return encode_multipart("BoUnDaRy", fields)
