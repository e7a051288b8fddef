"""Field work offline in a real browser: take offline, go offline, record, come back, sync exactly once.

Debian's Chromium through Playwright (never `playwright install`), against the live
server. Service workers need a secure context; http://localhost qualifies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.web.conftest import PASSWORD, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

from tests.cases.conftest import PNG  # noqa: E402  (a real, decodable PNG)

SITE = {"latitude": 43.812, "longitude": 125.312}


@pytest.fixture
def inspection(world):
    from supervision.cases.models import Inspection
    from supervision.cases.services import inspections as svc

    plan = svc.inspection_plan_create(
        actor=world.users["admin"],
        name="2025年第一季度双随机抽查",
        zoning_plan=world.plan,
        division=world.divisions["a"],
        period_start="2025-01-01",
        period_end="2025-03-31",
        target_count=1,
        seed=7,
    )
    insp = Inspection.objects.create(
        inspection_plan=plan, target=world.target, division=world.divisions["a"], unit=world.units["a1"], draw_order=1
    )
    insp.inspectors.set([world.users["inspector"]])
    svc.checklist_generate(inspection=insp)
    return insp


@pytest.fixture
def target_leads(world):
    """Two dispatched leads on the inspected target: the inspector may verify them in the field."""
    from django.conf import settings
    from django.contrib.gis.geos import Point

    from supervision.cases.services.leads import lead_dispatch, lead_raise

    out = []
    for n in (1, 2):
        lead = lead_raise(
            source="complaint",
            source_key=f"field-test:{n}",
            plan=world.plan,
            geom=Point(125.312, 43.812, srid=4326).transform(settings.STORAGE_SRID, clone=True),
            title=f"群众举报：测试化工夜间排污 {n}",
            reason="12369 举报",
            unit=world.units["a1"],
            target=world.target,
        ).lead
        out.append(lead_dispatch(lead=lead, actor=world.users["officer_a"]))
    return out


def test_inspector_records_checklist_and_photo_offline_and_sync_stores_each_once(
    world, inspection, target_leads, chromium, live_server
):
    from supervision.cases.models import ChecklistItem, LeadEvent
    from supervision.cases.services.leads import lead_dismiss, lead_start_verification
    from supervision.field.models import FieldPhoto, FieldRecord

    # localhost, not 127.0.0.1 spelled out: the service worker wants a secure context.
    base = live_server.url.replace("127.0.0.1", "localhost")
    host = urlsplit(base).netloc
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        geolocation=SITE,
        permissions=["geolocation"],
        service_workers="allow",
    )
    context.set_default_timeout(20_000)
    external, field_puts = [], []

    def seen(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.netloc != host:
            external.append(request.url)
        if request.method == "PUT" and "/api/v1/field/" in request.url:
            field_puts.append(request.url)

    context.on("request", seen)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/accounts/login/")
        page.fill("#id_username", "inspector_w")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()

        page.goto(base + "/field/")
        page.wait_for_selector("#field-sw-state[data-state=controlled]", state="attached")
        manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
        assert manifest["name"] == "生态环境分区管控监督执法"
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/field/"

        # Take offline: the package (checklist, unit outline) in IndexedDB, the page in Cache Storage.
        page.click("#field-take-offline")
        page.wait_for_selector("#field-message[data-taken]", state="attached")
        items = list(inspection.items.order_by("position"))
        assert len(items) == 2
        page.wait_for_selector(f"#field-item-{items[0].pk}", state="attached")

        # Offline: the page reloads from the service worker, filled from IndexedDB.
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-field-ready=true]", state="attached")
        assert page.get_attribute("#field-net", "data-online") == "false"
        assert page.locator(".field-inspection .leaflet-interactive").count() >= 1  # the unit outline
        assert page.locator(f"#field-item-{items[0].pk} input[type=radio]:checked").count() == 0  # nothing preselected

        first, second = (f"#field-item-{i.pk}" for i in items)
        page.check(f"{first} input[value=pass]")
        page.click(f"{first} form button[type=submit]")
        page.wait_for_selector("#field-outbox-info[data-count='1']", state="attached")
        page.check(f"{second} input[value=fail]")
        page.fill(f"{second} textarea", "未执行污染物排放总量控制。")
        page.click(f"{second} form button[type=submit]")
        page.wait_for_selector("#field-outbox-info[data-count='2']", state="attached")
        page.set_input_files(
            f"{first} input[type=file]", files=[{"name": "site.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.wait_for_selector("#field-outbox-info[data-count='3']", state="attached")

        # Lead verification offline: a finding on each lead; meanwhile the office dismisses the second.
        kept, moved = target_leads
        for n, lead in enumerate(target_leads, start=4):
            page.fill(f"[data-lead-id='{lead.pk}'] textarea", f"现场核查：排污口位置与举报一致（{lead.pk}）")
            page.click(f"[data-lead-id='{lead.pk}'] form button[type=submit]")
            page.wait_for_selector(f"#field-outbox-info[data-count='{n}']", state="attached")
        moved = lead_start_verification(lead=moved, actor=world.users["officer_a"])
        lead_dismiss(lead=moved, actor=world.users["officer_a"], reason="已由执法人员核实为合法排放")
        assert page.get_attribute(f"{first} input[type=file]", "capture") == "environment"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "field_offline_phone.png"))
        assert field_puts == []  # nothing left the device
        assert not FieldRecord.objects.exists()
        assert set(ChecklistItem.objects.filter(inspection=inspection).values_list("result", flat=True)) == {"pending"}

        # Back online: the outbox drains by itself (online event); each record reaches the server once.
        context.set_offline(False)
        page.wait_for_selector("#field-outbox-info[data-count='0']", state="attached")
        page.wait_for_selector("#field-message[data-left='0']", state="attached")
        assert len(field_puts) == 5
        stored = {i.pk: (i.result, i.note) for i in ChecklistItem.objects.filter(inspection=inspection)}
        assert stored == {items[0].pk: ("pass", ""), items[1].pk: ("fail", "未执行污染物排放总量控制。")}
        assert FieldRecord.objects.filter(kind="answer").count() == 2
        photo = FieldPhoto.objects.get()
        assert photo.item_id == items[0].pk and photo.file.read() == PNG
        assert (photo.latitude, photo.longitude) == (SITE["latitude"], SITE["longitude"])
        answer = FieldRecord.objects.get(item=items[1], kind="answer")
        assert (answer.latitude, answer.longitude) == (SITE["latitude"], SITE["longitude"])
        assert answer.recorded_at is not None
        findings = LeadEvent.objects.filter(lead=kept, comment__startswith="现场核查")
        assert findings.count() == 1 and findings.get().data["field_finding"]["latitude"] == SITE["latitude"]
        # The dismissed lead: a conflict shown in the page with the server's version, nothing stored.
        conflict = page.locator("#field-conflict-list li[data-code=lead_moved_on]")
        assert conflict.count() == 1 and "不属实" in conflict.inner_text()
        assert not LeadEvent.objects.filter(lead=moved, comment__startswith="现场核查").exists()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "field_synced_phone.png"))

        # A second sync sends nothing new and stores nothing new.
        done = page.get_attribute("#field-message", "data-done")
        page.click("#field-sync-now")
        # A selector, not wait_for_function: its later polls eval() in the page, which the CSP refuses.
        page.wait_for_selector(f"#field-message:not([data-done='{done}'])", state="attached")
        assert page.get_attribute("#field-message", "data-sent") == "0"
        assert len(field_puts) == 5
        assert FieldRecord.objects.count() == 4 and FieldPhoto.objects.count() == 1
        assert not external, f"pages requested external URLs: {external}"
        assert not errors, f"script errors: {errors}"
    finally:
        context.close()
