"""Phone first: every page a user works on, at 390 px wide, in Chinese and in English, without sideways
scrolling and without a crushed text column; the siting report too. Screenshots go to var/screenshots/."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.web.test_security_web import siting_report_path

PHONE = {"width": 390, "height": 844}
MIN_COLUMN_PX = 300

# Widths of the page, its main column and each card/table container (cards inside the map's side panel too).
MEASURE = """() => {
  const main = document.querySelector('main') || document.body;
  const boxes = [...document.querySelectorAll('main .card, main section, main .table-wrap, main form:not(.inline), main > div')]
    .filter(el => el.offsetParent !== null && !el.closest('.leaflet-container, .chips, .counts, .row, .timeline, details:not([open])'))
    .map(el => ({sel: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ').join('.') : ''),
                 w: Math.round(el.getBoundingClientRect().width)}));
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          main: Math.round(main.getBoundingClientRect().width), boxes: boxes};
}"""


def _scene(world):
    from supervision.cases.services import inspections as insp
    from supervision.cases.services import leads as lead_services

    officer = world.users["officer_a"]
    lead = world.leads["a2"]
    lead = lead_services.lead_dispatch(lead=lead, actor=officer, days=5)
    lead = lead_services.lead_start_verification(lead=lead, actor=officer)
    _, case = lead_services.lead_confirm(lead=lead, actor=officer, comment="现场核实属实")
    plan = insp.inspection_plan_create(
        actor=world.users["admin"],
        name="2026 年第四季度双随机抽查",
        zoning_plan=world.plan,
        period_start=date.today(),
        period_end=date.today() + timedelta(days=30),
        target_count=1,
        inspectors_per_target=1,
        avoidance=False,
    )
    plan = insp.inspection_plan_draw(inspection_plan=plan, actor=world.users["admin"])
    inspection = plan.inspections.first()
    return case, plan, inspection


def _scan_scene(world):
    """A scan lead (title and reason stored in Chinese, shown in the reader's language), a running
    layer and one waiting behind it (same plan)."""
    from django.conf import settings
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from supervision.cases.choices import LeadSource
    from supervision.cases.services.leads import lead_raise
    from supervision.remote_sensing.models import ChangeLayer

    running = ChangeLayer.objects.create(
        plan=world.plan, kind="landcover", name="2026q3-changes-a-very-long-file-name.tif", path="/data/a.tif",
        checksum="a" * 64, status="running", scan_run=1, windows_total=400, windows_done=120,
        started_at=timezone.now(), heartbeat_at=timezone.now(),
    )  # fmt: skip
    waiting = ChangeLayer.objects.create(
        plan=world.plan, kind="landcover", name="2026q4-changes.tif", path="/data/b.tif", checksum="b" * 64
    )
    unit = world.units["a1"]
    lead = lead_raise(
        source=LeadSource.REMOTE_SENSING,
        source_key="web-test:scan",
        plan=world.plan,
        geom=Point(125.311, 43.811, srid=4326).transform(settings.STORAGE_SRID, clone=True),
        title=f"{unit.name}挖损/裸土图斑（12,345 平方米）",
        reason=f"遥感变化图层 #{running.pk}（{running.name}）检出挖损/裸土图斑，位于重点管控单元 {unit.code}。",
        unit=unit,
        change_class=4,
        area_m2=12345.0,
        layer_ref=f"change_layer:{running.pk}",
        evidence={
            "layer_id": running.pk, "layer_name": running.name, "patch_key": "4-100-200", "change_class": 4,
            "change_class_name": "挖损/裸土", "unit_code": unit.code, "unit_class": unit.unit_class,
            "area_m2": 12345.0, "min_area_m2": 1000.0,
        },
    ).lead  # fmt: skip
    return lead, running, waiting


def _pages(world, case, plan, inspection, report, scan):
    scan_lead, running, waiting = scan
    return {
        "officer_a": [
            "/desk/",
            f"/desk/leads/{world.leads['a'].pk}/",
            f"/desk/leads/{scan_lead.pk}/",
            "/cases/",
            f"/cases/{case.pk}/",
            "/map/",
            "/layers/",
            f"/layers/{running.pk}/",
            f"/layers/{waiting.pk}/",
            report,
        ],
        "inspector_w": [
            "/inspections/",
            f"/inspections/plans/{plan.pk}/",
            f"/inspections/{inspection.pk}/",
        ],
        "assessor_w": [
            "/assessment/?plan=web-city&period=2025-Q3",
            "/assessment/report/?plan=web-city&year=2025",
            f"/assessment/districts/{world.units['a2'].division.adcode}/?plan=web-city",
        ],
        "planner_w": [
            "/plans/",
            f"/plans/{world.plan.code}/",
            f"/plans/{world.plan.code}/parent/",
            "/map/units/web-city/ZH22010210001/",
        ],
        "admin_w": ["/eia/conflicts/", "/eia/approvals/new/"],
    }


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_in_both_languages(world, browser):
    from supervision.zoning.choices import OverlayKind
    from tests.factories import OverlayFactory, square

    OverlayFactory(
        plan=world.plan, kind=OverlayKind.BASIN, code="LY-01", name="测试流域", geom=square(125.29, 43.79, 0.06)
    )
    case, plan, inspection = _scene(world)
    scan = _scan_scene(world)
    report = siting_report_path(world)
    page = browser.page
    page.set_viewport_size(PHONE)
    problems = []
    for username, paths in _pages(world, case, plan, inspection, report, scan).items():
        browser.login(username)
        for lang in ("zh-hans", "en"):
            browser.context.add_cookies([{"name": "django_language", "value": lang, "url": browser.base}])
            for path in paths:
                response = browser.goto(path)
                assert response.status == 200, (username, path, response.status)
                page.wait_for_load_state("networkidle")
                if path == "/map/":
                    page.wait_for_selector("#map[data-loaded=true]")
                    # The phone map is a fixed share of the screen and its units are drawn and clickable.
                    box = page.locator("#map").bounding_box()
                    assert 0.4 * PHONE["height"] <= box["height"] <= 0.7 * PHONE["height"], box
                    page.wait_for_timeout(300)
                    # A basin drawn over every unit takes neither clicks nor hovers: the unit underneath does.
                    # The map draws vector tiles: the unit's place comes from its stored outline.
                    minx, miny, maxx, maxy = world.units["a2"].geom.extent
                    page.evaluate(
                        """([s, w, n, e]) => { const m = window.supervisionMap;
                           // a quarter in from the south-west corner: clear of the lead at the centre
                           const p = m.map.latLngToContainerPoint([s * 0.75 + n * 0.25, w * 0.75 + e * 0.25]);
                           const r = document.getElementById('map').getBoundingClientRect();
                           window.__unitPoint = [r.x + p.x, r.y + p.y]; }""",
                        [miny, minx, maxy, maxx],
                    )
                    x, y = page.evaluate("() => window.__unitPoint")
                    page.mouse.move(x - 5, y - 5)
                    page.mouse.move(x, y, steps=3)
                    tip = page.locator(".leaflet-tooltip:not(.district-label)", has_text="ZH22010220001")
                    tip.first.wait_for()
                    page.mouse.click(x, y)
                    page.wait_for_selector('#unit-card article[data-unit="ZH22010220001"]', state="attached")
                    # Drawing a site: one vertex per click, "finish" only from the third.
                    page.click("#draw-polygon")
                    page.locator("#map").scroll_into_view_if_needed()
                    box = page.locator("#map").bounding_box()
                    for i, (fx, fy) in enumerate(((0.3, 0.3), (0.6, 0.35), (0.5, 0.6))):
                        assert page.is_disabled("#draw-finish") == (i < 3)
                        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                        assert page.evaluate("() => window.supervisionMap.state.vertices.length") == i + 1
                    assert page.is_enabled("#draw-finish")
                    page.click("#draw-clear")
                if path == f"/desk/leads/{scan[0].pk}/" and lang == "en":
                    # a scan lead reads in English: its title and reason rebuilt from the evidence
                    assert page.locator("h1").inner_text().startswith(f"#{scan[0].pk} Excavation / bare soil patch")
                    assert "平方米" not in page.locator("main").inner_text()
                if path == f"/layers/{scan[2].pk}/":
                    # the waiting layer says behind which one, in the page's language
                    expected = "waits for change layer" if lang == "en" else "等待同一规划或同一文件"
                    assert expected in page.locator("main").inner_text()
                m = page.evaluate(MEASURE)
                if m["scroll"] > m["inner"]:
                    problems.append(f"{lang} {path}: page is {m['scroll']} px wide on a {m['inner']} px screen")
                narrow = [b for b in m["boxes"] if b["w"] < MIN_COLUMN_PX]
                if m["main"] < MIN_COLUMN_PX or narrow:
                    problems.append(f"{lang} {path}: text column {m['main']} px; narrow boxes {narrow[:3]}")
                if lang == "zh-hans" or path == "/desk/":
                    name = "siting_report" if path == report else path.strip("/").replace("/", "_").split("?")[0]
                    browser.shot(f"phone_{lang}_{name}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_the_inspector_answers_items_on_one_page_without_reloads(world, browser):
    from supervision.cases.services import inspections as insp

    _, plan, inspection = _scene(world)
    inspector = inspection.inspectors.first()
    insp.inspection_start(inspection=inspection, actor=inspector)
    page = browser.page
    page.set_viewport_size(PHONE)
    browser.login(inspector.username)
    browser.goto(f"/inspections/{inspection.pk}/")
    page.evaluate("() => { window.__samePage = true; }")
    items = list(inspection.items.order_by("position"))
    assert page.locator("input[type=radio]:checked").count() == 0  # nothing preselected
    first = f"#item-{items[0].pk}"
    page.check(f"{first} input[value=fail]")
    page.click(f"{first} button[type=submit]")
    # Refused without a note: the reason shows at the top, in Chinese, and the item stays open.
    page.wait_for_selector("#page-messages li.error")
    assert "须填写说明" in page.inner_text("#page-messages") and page.locator(f"{first} form").count() == 1
    page.fill(f"#note-{items[0].pk}", "废气收集设施未运行")
    page.check(f"{first} input[value=fail]")
    page.click(f"{first} button[type=submit]")
    page.wait_for_selector(f"{first} a[href^='/desk/leads/']")
    second = f"#item-{items[1].pk}"
    page.check(f"{second} input[value=pass]")
    page.click(f"{second} button[type=submit]")
    page.wait_for_selector(f"{second} .badge.ok")
    assert page.evaluate("() => window.__samePage === true")  # answered in place, never reloaded
    browser.shot("phone_checklist")
    page.click(f"{first} a[href^='/desk/leads/']")
    page.wait_for_selector("h1")
    assert "检查发现问题" in page.inner_text("h1")  # the inspector opens the lead it raised
