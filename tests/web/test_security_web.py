"""Pages under a Content-Security-Policy without inline script, and map labels that are text, never HTML."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD
from tests.web.test_pages import PAGES

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]+\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
XSS_NAME = '<img src=x onerror="window.__xss=1">'


def siting_report_path(world) -> str:
    from django.contrib.gis.geos import Point

    from supervision.zoning.services import siting_assess

    assessment = siting_assess(
        plan=world.plan,
        geometry=Point(125.31, 43.815, srid=4326),
        industry_code="C2614",
        project_type="new",
        actor=world.users["planner"],
    )
    return f"/zoning/siting-assessments/{assessment.pk}/report/"


def _pages(world):
    paths = [p.format(lead_a=world.leads["a"].pk, lead_b=world.leads["b"].pk) for p in PAGES]
    return [p for p in paths if "export" not in p] + [
        "/accounts/login/",
        siting_report_path(world),
        "/api/v1/",
        "/api/schema/swagger-ui/",
        "/eia/conflicts/",
        "/eia/approvals/new/",
    ]


@pytest.mark.django_db
def test_every_page_has_the_policy_and_no_inline_script(world, client, settings):
    settings.PUBLIC_ZONING = True
    assert client.login(username="admin_w", password=PASSWORD)
    checked = 0
    for lang in ("zh-hans", "en"):
        client.cookies["django_language"] = lang
        for path in _pages(world) + ["/public/", "/public/cases/"]:
            response = client.get(path, HTTP_ACCEPT="text/html")
            policy = response.get("Content-Security-Policy", "")
            assert (
                "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
            ), path
            assert "unsafe-eval" not in policy and "object-src 'none'" in policy, path
            if response.get("Content-Type", "").startswith("text/html") and response.status_code == 200:
                html = response.content.decode()
                assert not INLINE_SCRIPT.search(html), f"{path}: inline <script>: {INLINE_SCRIPT.search(html)[0]}"
                assert not HANDLER.search(html), f"{path}: inline handler: {HANDLER.search(html)[0][:120]}"
                checked += 1
    assert checked >= 20


def test_the_policy_names_the_basemap_host(settings):
    from supervision.web.csp import csp_policy

    settings.BASEMAP_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY"
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn" in csp_policy()
    settings.CSP_POLICY = "default-src 'none'"
    assert csp_policy() == "default-src 'none'"


def _hover_every_label(browser):
    """Hover each unit, open each popup: whatever the names hold, no script runs."""
    page = browser.page
    page.wait_for_selector("#map[data-loaded=true]")
    page.evaluate(
        """() => {
        const m = window.supervisionMap;
        m.map.eachLayer(l => { if (l.openTooltip && l.getTooltip && l.getTooltip()) l.openTooltip(l.getBounds ? l.getBounds().getCenter() : l.getLatLng()); });
        m.map.eachLayer(l => { if (l.getPopup && l.getPopup()) l.openPopup(); });
    }"""
    )
    page.wait_for_timeout(300)
    return page.evaluate("() => window.__xss === undefined")


def _hover_unit(browser, unit):
    """Rest the pointer inside a unit: the map asks the server for the unit there and shows its label."""
    page = browser.page
    minx, miny, maxx, maxy = unit.geom.extent
    x, y = page.evaluate(
        """([lat, lon]) => { const p = window.supervisionMap.map.latLngToContainerPoint([lat, lon]);
           const r = document.getElementById('map').getBoundingClientRect(); return [r.x + p.x, r.y + p.y]; }""",
        [(miny + maxy) / 2, (minx + maxx) / 2],
    )
    page.mouse.move(x - 5, y - 5)
    page.mouse.move(x, y, steps=3)
    tooltip = page.locator(".leaflet-tooltip", has_text="onerror")
    tooltip.first.wait_for()
    return tooltip


@pytest.mark.django_db(transaction=True)
def test_unit_and_overlay_names_are_shown_as_text_on_both_maps(world, browser, settings):
    from supervision.zoning.models import Overlay
    from tests.factories import plan_content_editable

    unit = world.units["a1"]
    with plan_content_editable(world.plan):
        unit.name = XSS_NAME
        unit.save(update_fields=["name"])
        Overlay.objects.filter(plan=world.plan).update(name=XSS_NAME)
    settings.PUBLIC_ZONING = True

    browser.login("officer_a")
    browser.goto("/map/")
    assert _hover_every_label(browser)
    tooltip = _hover_unit(browser, unit)
    assert tooltip.count() >= 1 and tooltip.first.locator("img").count() == 0
    browser.page.locator("#unit-search").fill("ZH22010210001")
    browser.page.locator("#search-results button").first.click()
    browser.page.wait_for_selector("#unit-card h2, #unit-card h3")
    assert browser.page.evaluate("() => window.__xss === undefined")

    browser.context.clear_cookies()
    browser.goto("/public/")
    assert _hover_every_label(browser)
    _hover_unit(browser, unit)
    assert browser.page.locator(".leaflet-tooltip img").count() == 0
    assert browser.page.evaluate("() => window.__xss === undefined")
