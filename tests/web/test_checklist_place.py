"""The online checklist takes a photo and the device's position per item, by the field app's rules.

The page's record form and the API's record endpoint keep where the device was on the item (and in
the evidence of the lead a failure raises); the page's photo form goes through the field photo
serializer and service (content-checked, stored once per client id). Both show on the item, the
inspection's API record and the lead's page.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from tests.cases.conftest import PNG
from tests.web.conftest import PASSWORD, SCREENSHOTS

SITE = {"latitude": 43.812345, "longitude": 125.312345, "accuracy": 8}


@pytest.fixture
def inspection(world):
    from supervision.cases.models import Inspection
    from supervision.cases.services import inspections as svc

    plan = svc.inspection_plan_create(
        actor=world.users["admin"],
        name="2025年第二季度双随机抽查",
        zoning_plan=world.plan,
        division=world.divisions["a"],
        period_start="2025-04-01",
        period_end="2025-06-30",
        target_count=1,
        seed=11,
    )
    insp = Inspection.objects.create(
        inspection_plan=plan, target=world.target, division=world.divisions["a"], unit=world.units["a1"], draw_order=1
    )
    insp.inspectors.set([world.users["inspector"]])
    svc.checklist_generate(inspection=insp)
    return svc.inspection_start(inspection=insp, actor=world.users["inspector"])


@pytest.mark.django_db
def test_the_api_keeps_the_device_position_on_the_item_and_in_the_raised_lead(world, inspection):
    first, second = inspection.items.order_by("position")
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(world.users["inspector"])
    url = f"/api/v1/inspections/{inspection.pk}/items/{{}}/record/"
    half = api.post(url.format(first.pk), {"result": "pass", "latitude": 43.8}, format="json")
    assert half.status_code == 400 and "longitude" in half.json()["detail"]
    far = api.post(url.format(first.pk), {"result": "pass", "latitude": 95, "longitude": 125.3}, format="json")
    assert far.status_code == 400 and "latitude" in far.json()["detail"]
    ok = api.post(
        url.format(second.pk),
        {
            "result": "fail",
            "note": "未执行总量控制。",
            "latitude": 43.8123,
            "longitude": 125.3123,
            "accuracy_m": 12.5,
            "recorded_at": "2025-05-06T09:30:00+08:00",
        },
        format="json",
    )
    assert ok.status_code == 200, ok.json()
    body = ok.json()
    assert (body["latitude"], body["longitude"], body["accuracy_m"]) == (43.8123, 125.3123, 12.5)
    assert body["located_at"].startswith("2025-05-06T09:30:00")
    second.refresh_from_db()
    position = dict(second.lead.evidence["position"])
    assert datetime.fromisoformat(position.pop("located_at")) == datetime.fromisoformat("2025-05-06T09:30:00+08:00")
    assert position == {"latitude": 43.8123, "longitude": 125.3123, "accuracy_m": 12.5}
    # Without a position the item keeps none (nothing invented).
    assert api.post(url.format(first.pk), {"result": "pass"}, format="json").json()["latitude"] is None


@pytest.mark.django_db
def test_the_page_records_an_item_with_its_position_and_a_photo_once(world, inspection, client):
    from supervision.field.models import FieldPhoto

    first, second = inspection.items.order_by("position")
    client.force_login(world.users["inspector"])
    page_url = f"/inspections/{inspection.pk}/"
    client.post(
        page_url,
        {
            "action": "record",
            "item": first.pk,
            "result": "pass",
            "latitude": "43.812345",
            "longitude": "125.312345",
            "accuracy_m": "8",
            "recorded_at": "2025-05-06T01:30:00Z",
        },
    )
    first.refresh_from_db()
    assert (first.result, first.latitude, first.longitude, first.accuracy_m) == ("pass", 43.812345, 125.312345, 8.0)

    photo_url = f"/inspections/{inspection.pk}/items/{first.pk}/photo/"
    client_id = str(uuid.uuid4())
    form = {
        "client_id": client_id,
        "caption": "厂区东侧",
        "latitude": "43.8124",
        "longitude": "125.3124",
        "accuracy_m": "6.4",
        "recorded_at": "2025-05-06T01:31:00Z",
    }
    for _ in range(2):  # a double tap: the same client id stores the photo once
        response = client.post(photo_url, {**form, "file": SimpleUploadedFile("site.png", PNG, "image/png")})
        assert response.status_code == 302 and response["Location"].endswith(f"#photos-{first.pk}")
    photos = list(FieldPhoto.objects.filter(item=first))
    assert len(photos) == 1
    photo = photos[0]
    assert (photo.latitude, photo.longitude, photo.accuracy_m, photo.caption) == (43.8124, 125.3124, 6.4, "厂区东侧")

    # Content-checked as every attachment: a "PNG" that is not one is refused, naming why; nothing stored.
    refused = client.post(
        photo_url,
        {**form, "client_id": str(uuid.uuid4()), "file": SimpleUploadedFile("x.png", b"not an image", "image/png")},
        follow=True,
    )
    assert FieldPhoto.objects.filter(item=first).count() == 1
    assert 'class="error"' in refused.content.decode()
    # Half a position is refused by the same rule as the API's.
    half = client.post(
        photo_url,
        {"client_id": str(uuid.uuid4()), "latitude": "43.8", "file": SimpleUploadedFile("b.png", PNG, "image/png")},
        follow=True,
    )
    assert "longitude" in half.content.decode() and FieldPhoto.objects.filter(item=first).count() == 1

    page = client.get(page_url).content.decode()
    assert f'data-item-position="{first.pk}"' in page and "43.812345, 125.312345" in page and "±8 m" in page
    assert f'data-item-photos="{first.pk}"' in page and f"/field/photos/{photo.pk}/" in page and "±6 m" in page
    assert page.count('name="client_id"') == 2 and client_id not in page  # a fresh id for each next photo

    # The inspection's API record carries both.
    api = APIClient()
    api.force_authenticate(world.users["admin"])
    items = {i["id"]: i for i in api.get(f"/api/v1/inspections/{inspection.pk}/").json()["items"]}
    assert items[first.pk]["latitude"] == 43.812345
    assert [p["url"] for p in items[first.pk]["photos"]] == [f"/field/photos/{photo.pk}/"]
    assert items[first.pk]["photos"][0]["accuracy_m"] == 6.4


@pytest.mark.django_db
def test_a_failed_item_shows_its_position_and_photos_on_the_lead_page(world, inspection, client):
    first, second = inspection.items.order_by("position")
    client.force_login(world.users["inspector"])
    client.post(
        f"/inspections/{inspection.pk}/items/{second.pk}/photo/",
        {"client_id": str(uuid.uuid4()), "file": SimpleUploadedFile("a.png", PNG, "image/png")},
    )
    client.post(
        f"/inspections/{inspection.pk}/",
        {
            "action": "record",
            "item": second.pk,
            "result": "fail",
            "note": "未执行总量控制。",
            "latitude": "43.81",
            "longitude": "125.31",
            "accuracy_m": "20",
        },
    )
    second.refresh_from_db()
    assert second.lead_id
    page = client.get(f"/desk/leads/{second.lead_id}/").content.decode()
    assert f'data-checklist-item="{second.pk}"' in page and "43.810000, 125.310000" in page
    assert "/field/photos/" in page
    assert "现场位置" in page  # the evidence row has its readable name
    located = timezone.localtime(second.located_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"定位时间: {located}" in page  # local time, not an ISO stamp


@pytest.mark.django_db
def test_a_photo_on_someone_elses_inspection_is_not_found(world, inspection, client):
    from supervision.field.models import FieldPhoto

    item = inspection.items.first()
    client.force_login(world.users["officer_b"])
    response = client.post(
        f"/inspections/{inspection.pk}/items/{item.pk}/photo/",
        {"client_id": str(uuid.uuid4()), "file": SimpleUploadedFile("a.png", PNG, "image/png")},
    )
    assert response.status_code == 404 and not FieldPhoto.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_phone_records_an_item_and_a_photo_with_its_gps_position(world, inspection, chromium, live_server):
    """390 px, geolocation granted: the item and its photo are stored with the browser's position and accuracy."""
    from supervision.field.models import FieldPhoto

    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", geolocation=SITE, permissions=["geolocation"]
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.fill("#id_username", "inspector_w")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/inspections/{inspection.pk}/")
        page.wait_for_selector("#geo[data-located='1']", state="attached")  # granted: watched at once
        assert "43.812345, 125.312345" in page.inner_text("#geo-text") and "±8 m" in page.inner_text("#geo-text")
        first, second = inspection.items.order_by("position")
        item = f"#item-{first.pk}"
        page.check(f"{item} input[value=pass]")
        page.click(f"{item} button[type=submit]")
        page.wait_for_selector(f"{item} [data-item-position]")
        photos = f"#photos-{first.pk}"
        page.set_input_files(
            f"{photos} input[type=file]", files=[{"name": "site.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.click(f"{photos} form.item-photo button[type=submit]")
        page.wait_for_selector(f"{photos} [data-item-photos] img")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "phone-checklist-photo-gps.png"), full_page=True)
        assert page.evaluate(f"document.querySelector('{photos} [data-item-photos] img').naturalWidth") > 0
    finally:
        context.close()
    assert not errors, errors
    first.refresh_from_db()
    assert (first.latitude, first.longitude, first.accuracy_m) == (43.812345, 125.312345, 8.0)
    assert first.located_at is not None
    photo = FieldPhoto.objects.get(item=first)
    assert (photo.latitude, photo.longitude, photo.accuracy_m) == (43.812345, 125.312345, 8.0)
    assert not FieldPhoto.objects.filter(item=second).exists()


@pytest.mark.django_db
def test_an_answer_synced_from_the_field_app_keeps_its_position_on_the_item_too(world, inspection):
    """The offline app's answers go through the same service: the item gets the device's position and accuracy."""
    item = inspection.items.order_by("position").first()
    api = APIClient()
    api.force_authenticate(world.users["inspector"])
    body = {
        "inspection": inspection.pk,
        "item": item.pk,
        "result": "pass",
        "latitude": 43.8111,
        "longitude": 125.3111,
        "accuracy_m": 15,
        "recorded_at": "2025-05-06T02:00:00Z",
    }
    assert api.put(f"/api/v1/field/answers/{uuid.uuid4()}/", body, format="json").status_code == 201
    item.refresh_from_db()
    assert (item.result, item.latitude, item.longitude, item.accuracy_m) == ("pass", 43.8111, 125.3111, 15.0)
    assert item.located_at == datetime.fromisoformat("2025-05-06T02:00:00+00:00")
