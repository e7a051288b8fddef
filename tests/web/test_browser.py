"""The web application in a real browser (headless Chromium): the four journeys of issue 7.

Each test saves a screenshot under var/screenshots/; the `browser` fixture fails a test
whose pages requested any URL outside the live server.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_sees_own_district_confirms_orders_rectification_and_other_officer_gets_404(world, browser):
    from supervision.cases.deadlines import end_of_local_day
    from supervision.cases.models import Case, Lead
    from supervision.cases.workdays import add_working_days

    page = browser.page
    own = {world.leads["a"].pk, world.leads["a2"].pk}
    browser.login("officer_a")

    # The one map: only the officer's district's leads are on the lead layer.
    browser.goto("/map/")
    page.wait_for_selector("#map[data-loaded=true]")
    assert set(page.evaluate("window.supervisionMap.state.leadIds")) == own
    browser.shot("officer_map")

    # The inbox: the same leads, counts by status, and the desk map.
    browser.goto("/desk/")
    page.wait_for_selector("#desk-map[data-loaded=true]")
    rows = {
        int(x)
        for x in page.locator("#lead-table tbody tr[data-lead]").evaluate_all("rs => rs.map(r => r.dataset.lead)")
    }
    assert rows == own
    assert page.inner_text("#count-all") == "2"
    browser.shot("officer_desk")

    # Dispatch → start verification → confirm (opens a case).
    lead = world.leads["a"]
    page.click(f"#lead-table a[href='/desk/leads/{lead.pk}/']")
    # The lead map draws the unit outline and the red line over it with the patch.
    page.wait_for_selector("#lead-map[data-loaded=true]")
    assert page.get_attribute("#lead-map", "data-unit") == lead.unit.code
    assert page.get_attribute("#lead-map", "data-red-lines") == "HX-0001"
    assert page.locator("#lead-map path.leaflet-interactive").count() >= 2
    page.fill("#d-days", "5")
    page.select_option("#d-day-kind", "working")
    page.click("#form-dispatch button[type=submit]")
    assert page.get_attribute("#lead-status", "data-status") == "dispatched"
    assert page.locator("[data-countdown]").count() == 1
    page.click("#form-start_verification button[type=submit]")
    assert page.get_attribute("#lead-status", "data-status") == "verifying"
    page.fill("#c-comment", "现场核查属实：未批先建。")
    page.click("#form-confirm button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get(lead=lead)
    assert page.get_attribute("#case-status", "data-status") == "opened"

    # Order rectification within 10 working days.
    page.fill("#o-req", "拆除违法建设，恢复植被。")
    page.select_option("#o-target", str(world.target.pk))
    page.fill("#o-days", "10")
    page.select_option("#o-day-kind", "working")
    page.click("#form-order_rectification button[type=submit]")
    assert page.get_attribute("#case-status", "data-status") == "rectification_ordered"
    case.refresh_from_db()
    expected = end_of_local_day(add_working_days(timezone.localdate(case.rectification_ordered_at), 10))
    assert case.rectification_due_at == expected and case.rectification_day_kind == "working"
    assert timezone.localtime(expected).strftime("%Y-%m-%d") in page.inner_text("#case-due")
    assert page.locator("#timeline li").count() >= 2
    browser.shot("officer_case")
    assert Lead.objects.get(pk=lead.pk).status == "confirmed"

    # Another district's officer: neither the lead nor the case exists for them.
    browser.login("officer_b")
    assert browser.goto(f"/desk/leads/{lead.pk}/").status == 404
    assert browser.goto(f"/cases/{case.pk}/").status == 404
    browser.shot("other_officer_404")
    browser.goto("/desk/")
    rows = {
        int(x)
        for x in page.locator("#lead-table tbody tr[data-lead]").evaluate_all("rs => rs.map(r => r.dataset.lead)")
    }
    assert rows == {world.leads["b"].pk}


def test_planner_runs_a_siting_check_on_the_map(world, browser):
    page = browser.page
    browser.login("planner_w")
    browser.goto("/map/")
    page.wait_for_selector("#map[data-loaded=true]")
    # Pick a point inside unit ZH22010210001 by clicking the map there.
    page.click("#draw-point")
    xy = page.evaluate(
        "(() => { const p = window.supervisionMap.map.latLngToContainerPoint([43.815, 125.31]); return [p.x, p.y]; })()"
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    lon = float(page.input_value("#site-lon"))
    lat = float(page.input_value("#site-lat"))
    assert abs(lon - 125.31) < 0.002 and abs(lat - 43.815) < 0.002
    page.fill("#industry-code", "C2614")
    page.click("#siting-submit")
    page.wait_for_selector("#siting-verdict")
    assert page.get_attribute("#siting-verdict", "data-verdict") == "prohibited"
    deciding = page.inner_text("#siting-verdict .clause.deciding")
    assert "ZH22010210001-1" in deciding and "禁止新建化学原料" in deciding
    assert "ZH22010210001" in page.inner_text("#siting-verdict table")
    # The unit card opens from the search box, with its access list.
    page.fill("#unit-search", "ZH22010210001")
    page.click("#search-results button")
    page.wait_for_selector("#unit-card article[data-unit=ZH22010210001]")
    assert "CITY-1" in page.inner_text("#unit-card")
    browser.shot("planner_siting")


def test_change_layer_upload_shows_progress_and_ends_with_leads(db, browser, settings, tmp_path):
    import numpy as np

    from supervision.cases.models import Lead
    from supervision.cases.services.users import user_upsert
    from tests.remote_sensing.conftest import plant, scene_for, three_units
    from tests.web.conftest import PASSWORD

    settings.CHANGE_LAYER_DIR = str(tmp_path / "layers")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SCAN_WINDOW_SIZE = 256
    from tests.factories import PlanFactory

    plan = PlanFactory(code="rs-web", name="遥感测试方案")
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype="uint8")
    plant(data, 50, 50, 20, 1)  # vegetation loss in the priority unit
    plant(data, 300, 250, 20, 2)  # new construction in the key unit
    tif = scene.write(tmp_path / "change_2025.tif", data, nodata=255)
    user_upsert(username="officer_rs", role="enforcement_officer", division_adcode="220102", password=PASSWORD)
    user_upsert(username="admin_rs", role="bureau_admin", password=PASSWORD)

    page = browser.page
    # The API's rule on the page too: officers read layers, bureau admins upload them.
    browser.login("officer_rs")
    browser.goto("/layers/")
    assert page.locator("#l-file").count() == 0
    browser.login("admin_rs")
    browser.goto("/layers/")
    page.set_input_files("#l-file", tif)
    page.select_option("#l-plan", "rs-web")
    page.select_option("#l-kind", "landcover")
    page.click("#upload-submit")
    page.wait_for_selector("#upload-progress:not([hidden])")
    page.wait_for_url(re.compile(r"/layers/\d+/$"), timeout=60_000)
    states = page.evaluate("sessionStorage.getItem('uploadStates')")
    assert states.split(",") == ["upload", "queued", "running", "done"]
    page.wait_for_selector("#layer-progress[data-status=done]")
    assert page.get_attribute("#layer-progress .progress", "aria-valuenow") == "100"
    assert [li.get_attribute("class") for li in page.locator("#layer-progress .steps li").all()] == ["done"] * 3
    n = page.locator("#layer-leads tbody tr").count()
    assert n == Lead.objects.filter(layer_ref__startswith="change_layer:").count() >= 2
    browser.shot("layer_upload_done")
    page.click("#layer-leads-link")
    page.wait_for_url(re.compile(r"/desk/\?layer="))
    assert page.locator("#lead-table tbody tr[data-lead]").count() == n


def test_assessor_computes_and_publishes_a_scorecard(world, browser):
    from supervision.assessment.models import AssessmentScheme, Scorecard
    from supervision.assessment.services import DEFAULT_SCHEME, scheme_set_weights

    if not AssessmentScheme.objects.exists():  # the data migration's rows are flushed between transactional tests
        scheme = AssessmentScheme.objects.create(version=1, name="默认考核方案")
        scheme_set_weights(
            scheme=scheme, weights={c: w for c, w, _ in DEFAULT_SCHEME}, params={c: p for c, _, p in DEFAULT_SCHEME}
        )
    page = browser.page
    browser.login("assessor_w")
    browser.goto("/assessment/?plan=web-city&period=2025-Q3")
    page.click("#btn-compute")
    page.wait_for_selector("#ranking tbody tr")
    assert page.locator("#ranking tbody tr").count() == 2
    page.wait_for_selector("#score-chart[data-rendered=true]")
    page.click("#ranking tbody tr:first-child td:nth-child(2) a")
    page.wait_for_selector("#card-status")
    assert "草稿" in page.inner_text("#card-status")
    page.click("#btn-publish")
    page.wait_for_load_state()
    card = Scorecard.objects.filter(plan__code="web-city", period_code="2025-Q3").order_by("division__adcode").first()
    assert Scorecard.objects.filter(plan__code="web-city", period_code="2025-Q3", status="published").count() == 1
    browser.goto(
        f"/assessment/scorecards/{card.pk if card.status == 'published' else Scorecard.objects.get(status='published').pk}/"
    )
    assert "已发布" in page.inner_text("#card-status")
    page.wait_for_selector("#indicator-chart[data-rendered=true]")
    browser.shot("assessor_published")


def test_the_one_map_draws_vector_tiles_instead_of_unit_geojson_pages(world, browser):
    page = browser.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    browser.login("officer_a")
    browser.goto("/map/")
    page.wait_for_selector("#map[data-loaded=true]")
    page.wait_for_load_state("networkidle")
    unit_tiles = [u for u in requested if re.search(r"/api/v1/tiles/units/\d+/\d+/\d+\.pbf\?plan=", u)]
    overlay_tiles = [u for u in requested if re.search(r"/api/v1/tiles/overlays/\d+/\d+/\d+\.pbf\?plan=", u)]
    assert unit_tiles and overlay_tiles, requested
    assert not [u for u in requested if "zoning/units/?" in u], requested
    # The district outlines give context without a basemap; a click still opens the unit's card.
    assert page.evaluate("() => document.querySelectorAll('.leaflet-tooltip.district-label').length") == 2
    minx, miny, maxx, maxy = world.units["a1"].geom.extent
    x, y = page.evaluate(
        """([lat, lon]) => { const p = window.supervisionMap.map.latLngToContainerPoint([lat, lon]);
           const r = document.getElementById('map').getBoundingClientRect(); return [r.x + p.x, r.y + p.y]; }""",
        [miny * 0.75 + maxy * 0.25, minx * 0.75 + maxx * 0.25],
    )
    page.mouse.click(x, y)
    page.wait_for_selector('#unit-card article[data-unit="ZH22010210001"]', state="attached")
    browser.shot("one_map_tiles")


def _screen_point(page, map_expr: str, element_id: str, lat: float, lon: float) -> tuple[float, float]:
    return page.evaluate(
        f"""([lat, lon]) => {{ const p = {map_expr}.latLngToContainerPoint([lat, lon]);
           const r = document.getElementById('{element_id}').getBoundingClientRect(); return [r.x + p.x, r.y + p.y]; }}""",
        [lat, lon],
    )


def test_every_map_draws_leads_targets_and_units_from_tiles(world, browser):
    page = browser.page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    browser.login("officer_a")

    # The one map: leads and targets are tiles; no GeoJSON of every lead or target is fetched.
    browser.goto("/map/")
    page.wait_for_selector("#map[data-loaded=true]")
    page.wait_for_load_state("networkidle")
    assert [u for u in requested if re.search(r"/api/v1/tiles/leads/\d+/\d+/\d+\.pbf\?plan=web-city", u)], requested
    # Targets are off until switched on in the layer control.
    page.click(".leaflet-control-layers label:has-text('监管对象') input")
    page.wait_for_load_state("networkidle")
    assert [u for u in requested if re.search(r"/api/v1/tiles/targets/\d+/\d+/\d+\.pbf", u)], requested
    assert not [u for u in requested if "leads.json" in u or "targets.json" in u], requested
    # A click on a lead's marker opens its popup (the server asked what lies under it), not a unit card.
    lead = world.leads["a"]
    page.evaluate("window.supervisionMap.map.setView([43.81, 125.31], 15, {animate: false})")
    page.wait_for_load_state("networkidle")
    x, y = _screen_point(page, "window.supervisionMap.map", "map", 43.81, 125.31)
    page.mouse.click(x, y)
    page.wait_for_selector(f'.lead-popup[data-lead="{lead.pk}"]')
    assert f"/desk/leads/{lead.pk}/" in page.inner_html(".lead-popup")
    assert page.inner_text("#unit-card") == ""
    browser.shot("one_map_lead_popup")

    # The desk: its filtered leads as tiles.
    requested.clear()
    browser.goto("/desk/?status=open")
    page.wait_for_selector("#desk-map[data-loaded=true]")
    assert [u for u in requested if "/api/v1/tiles/leads/" in u and "status=new" in u], requested
    assert not [u for u in requested if "leads.json" in u], requested

    # The lead page: the units around the lead are tiles; its unit, red line and patch are still drawn.
    requested.clear()
    browser.goto(f"/desk/leads/{lead.pk}/")
    page.wait_for_selector("#lead-map[data-loaded=true]")
    assert [u for u in requested if "/api/v1/tiles/units/" in u and "plan=web-city" in u], requested
    assert page.get_attribute("#lead-map", "data-unit") == lead.unit.code

    # The unit page: a minimap of the plan's unit tiles around the unit.
    requested.clear()
    browser.goto("/map/units/web-city/ZH22010210001/")
    page.wait_for_selector("#unit-map[data-loaded=true]")
    assert [u for u in requested if "/api/v1/tiles/units/" in u and "plan=web-city" in u], requested
    browser.shot("unit_page_map")
