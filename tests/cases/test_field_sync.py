"""Field sync: idempotent by client_id, conflicts as 409 with the server's version, scoped like the rest."""

import uuid

import pytest
from django.utils import timezone

from supervision.cases.models import ChecklistItem, EnforcementTarget, Evidence, Inspection, Lead, LeadEvent
from supervision.cases.services import inspections as insp_svc
from supervision.cases.services.leads import lead_dismiss, lead_dispatch, lead_start_verification
from supervision.cases.services.users import user_upsert
from supervision.field.models import FieldPhoto, FieldRecord
from tests.cases.conftest import PNG, credit_code, upload


@pytest.fixture
def field(scene, users, client_for, make_lead):
    other, _ = user_upsert(username="inspector_other", role="inspector", division_adcode="220102")
    plan = insp_svc.inspection_plan_create(
        actor=users["admin"],
        name="2025年第一季度双随机抽查",
        zoning_plan=scene.plan,
        division=scene.nanguan,
        period_start="2025-01-01",
        period_end="2025-03-31",
        target_count=1,
        seed=1,
    )
    mine = Inspection.objects.create(
        inspection_plan=plan, target=scene.target_a, division=scene.nanguan, unit=scene.unit_a, draw_order=1
    )
    mine.inspectors.set([users["inspector"]])
    insp_svc.checklist_generate(inspection=mine)
    second = EnforcementTarget.objects.create(
        name="南关印染",
        credit_code=credit_code("220102", 7),
        location=scene.target_a.location,
        division=scene.nanguan,
        unit=scene.unit_a,
    )
    theirs = Inspection.objects.create(
        inspection_plan=plan, target=second, division=scene.nanguan, unit=scene.unit_a, draw_order=2
    )
    theirs.inspectors.set([other])
    insp_svc.checklist_generate(inspection=theirs)
    lead = make_lead(target=scene.target_a)
    lead = lead_dispatch(lead=lead, actor=users["officer"])

    class F:
        pass

    f = F()
    f.mine, f.theirs, f.other, f.lead = mine, theirs, other, lead
    f.items = list(mine.items.order_by("position"))
    f.client = client_for("inspector")
    f.officer = client_for("officer")
    return f


def answer(client, inspection, item, result="pass", note="", cid=None, **headers):
    cid = cid or uuid.uuid4()
    body = {"inspection": inspection.pk, "item": item.pk, "result": result, "note": note}
    body.update(latitude=43.805, longitude=125.305, recorded_at=timezone.now().isoformat())
    return cid, client.put(f"/api/v1/field/answers/{cid}/", body, format="json", **headers)


def test_package_holds_my_inspection_with_outline_and_the_lead(field):
    r = field.client.get("/api/v1/field/package/")
    assert r.status_code == 200
    body = r.json()
    assert [i["id"] for i in body["inspections"]] == [field.mine.pk]
    insp = body["inspections"][0]
    assert insp["unit"]["geometry"]["type"] == "MultiPolygon"
    assert [i["item"] for i in insp["items"]] == [i.pk for i in field.items]
    assert all(i["result"] == "pending" for i in insp["items"])
    assert [lead["id"] for lead in body["leads"]] == [field.lead.pk]


def test_same_answer_twice_is_stored_once(field):
    cid, first = answer(field.client, field.mine, field.items[0])
    assert first.status_code == 201, first.json()
    _, again = answer(field.client, field.mine, field.items[0], cid=cid)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert FieldRecord.objects.filter(client_id=cid).count() == 1
    item = ChecklistItem.objects.get(pk=field.items[0].pk)
    assert item.result == "pass"
    # The assigned inspection was started by the first answer, once.
    field.mine.refresh_from_db()
    assert field.mine.status == "in_progress"
    assert field.mine.events.count() == 1


def test_same_batch_twice_is_stored_once(field):
    records = [
        {
            "kind": "answer",
            "client_id": str(uuid.uuid4()),
            "inspection": field.mine.pk,
            "item": it.pk,
            "result": r,
            "note": "" if r == "pass" else "排污口未标识",
        }
        for it, r in zip(field.items[:2], ["pass", "fail"], strict=True)
    ]
    records.append(
        {"kind": "finding", "client_id": str(uuid.uuid4()), "lead": field.lead.pk, "finding": "现场有新建厂房"}
    )
    first = field.client.post("/api/v1/field/sync/", {"records": records}, format="json").json()["results"]
    assert [r["status"] for r in first] == [201, 201, 201], first
    second = field.client.post("/api/v1/field/sync/", {"records": records}, format="json").json()["results"]
    assert [r["status"] for r in second] == [200, 200, 200]
    assert [r["body"] for r in second] == [r["body"] for r in first]
    assert FieldRecord.objects.count() == 3
    # The failed item raised one lead, not two.
    failed = ChecklistItem.objects.get(pk=field.items[1].pk)
    assert failed.lead_id and Lead.objects.filter(checklist_items=failed).count() == 1
    assert LeadEvent.objects.filter(lead=field.lead, comment="现场有新建厂房").count() == 1


def test_resend_with_other_content_is_refused(field):
    cid, _ = answer(field.client, field.mine, field.items[0], "pass")
    _, r = answer(field.client, field.mine, field.items[0], "fail", note="x", cid=cid)
    assert r.status_code == 409 and r.json()["code"] == "client_id_reused"


def test_item_answered_differently_meanwhile_is_a_conflict_with_the_server_version(field, users):
    insp_svc.inspection_start(inspection=field.mine, actor=users["inspector"])
    insp_svc.checklist_item_record(item=field.items[0], actor=users["inspector"], result="fail", note="网上已记录")
    cid, r = answer(field.client, field.mine, field.items[0], "pass", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "answer_conflict"
    assert body["server"]["result"] == "fail" and body["server"]["note"] == "网上已记录"
    # The phone's language (zh-hans): the refusal reads in Chinese.
    assert "已在服务器上记录为“不符合”" in body["detail"]
    en = field.client.put(
        f"/api/v1/field/answers/{uuid.uuid4()}/",
        {"inspection": field.mine.pk, "item": field.items[0].pk, "result": "pass"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert en.status_code == 409 and "was already recorded as" in en.json()["detail"]
    assert not FieldRecord.objects.filter(client_id=cid).exists()
    # The same answer as the server's is no conflict.
    _, same = answer(field.client, field.mine, field.items[0], "fail", note="网上已记录")
    assert same.status_code == 201 and same.json()["outcome"] == "already_recorded"


def test_lead_that_moved_on_is_a_conflict(field, users):
    lead = lead_start_verification(lead=field.lead, actor=users["officer"])
    lead_dismiss(lead=lead, actor=users["officer"], reason="已核实为合法建设")
    r = field.client.put(
        f"/api/v1/field/findings/{uuid.uuid4()}/", {"lead": field.lead.pk, "finding": "现场无异常"}, format="json"
    )
    assert r.status_code == 409
    assert r.json()["code"] == "lead_moved_on" and r.json()["server"]["status"] == "dismissed"


def test_officer_finding_starts_verification(field):
    r = field.officer.put(
        f"/api/v1/field/findings/{uuid.uuid4()}/", {"lead": field.lead.pk, "finding": "现场核查"}, format="json"
    )
    assert r.status_code == 201, r.json()
    assert Lead.objects.get(pk=field.lead.pk).status == "verifying"


def test_photo_on_item_with_gps_is_stored_once(field):
    cid = uuid.uuid4()
    data = {
        "file": upload("site.png", PNG),
        "inspection": field.mine.pk,
        "item": field.items[0].pk,
        "latitude": "43.805",
        "longitude": "125.305",
        "accuracy_m": "8",
        "recorded_at": "2025-02-03T10:00:00+08:00",
    }
    first = field.client.put(f"/api/v1/field/photos/{cid}/", data, format="multipart")
    assert first.status_code == 201, first.json()
    data["file"] = upload("site.png", PNG)
    again = field.client.put(f"/api/v1/field/photos/{cid}/", data, format="multipart")
    assert again.status_code == 200 and again.json() == first.json()
    photo = FieldPhoto.objects.get()
    assert (photo.latitude, photo.longitude, photo.accuracy_m) == (43.805, 125.305, 8)
    assert photo.taken_at.isoformat().startswith("2025-02-03T02:00:00")
    assert photo.file.read() == PNG


def test_photo_on_lead_becomes_its_evidence_once(field):
    cid = uuid.uuid4()
    data = {"file": upload("lead.png", PNG), "lead": field.lead.pk, "latitude": "43.8", "longitude": "125.3"}
    assert field.client.put(f"/api/v1/field/photos/{cid}/", data, format="multipart").status_code == 201
    data["file"] = upload("lead.png", PNG)
    assert field.client.put(f"/api/v1/field/photos/{cid}/", data, format="multipart").status_code == 200
    assert Evidence.objects.filter(lead=field.lead).count() == 1


def test_another_inspectors_inspection_is_404(field):
    _, r = answer(field.client, field.theirs, field.theirs.items.first())
    assert r.status_code == 404
    assert ChecklistItem.objects.get(pk=field.theirs.items.first().pk).result == "pending"
    # An item of another inspection under my inspection's id is not found either.
    _, r = answer(field.client, field.mine, field.theirs.items.first())
    assert r.status_code == 404


def test_another_divisions_lead_is_404(field, client_for):
    r = client_for("officer_b").put(
        f"/api/v1/field/findings/{uuid.uuid4()}/", {"lead": field.lead.pk, "finding": "x"}, format="json"
    )
    assert r.status_code == 404


def test_bad_input_names_the_field(field):
    r = field.client.put(
        f"/api/v1/field/answers/{uuid.uuid4()}/",
        {"inspection": field.mine.pk, "item": field.items[0].pk, "result": "maybe", "latitude": 91, "longitude": 1},
        format="json",
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid"
    assert any(p.startswith("result") for p in body["problems"]) and any(
        p.startswith("latitude") for p in body["problems"]
    )
    assert field.client.put("/api/v1/field/answers/not-a-uuid/", {}, format="json").status_code == 404


def test_fail_without_note_is_refused_and_not_kept(field):
    cid, r = answer(field.client, field.mine, field.items[0], "fail", note="")
    assert r.status_code == 400 and r.json()["code"] == "note_required"
    assert not FieldRecord.objects.filter(client_id=cid).exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_resends_store_once(field, users, monkeypatch):
    """Both requests find no record before either inserts: the unique client_id decides, one 201, one 200."""
    import threading

    from django.db import connection
    from rest_framework.test import APIClient

    from supervision.field import services

    barrier = threading.Barrier(2, timeout=20)
    original = services._resent
    waited = threading.local()

    def look_then_wait(**kwargs):
        found = original(**kwargs)
        if found is None and not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()
        return found

    monkeypatch.setattr(services, "_resent", look_then_wait)
    cid = uuid.uuid4()
    body = {"inspection": field.mine.pk, "item": field.items[1].pk, "result": "fail", "note": "废水直排"}
    statuses = []

    def send():
        client = APIClient()
        client.force_authenticate(users["inspector"])
        try:
            statuses.append(client.put(f"/api/v1/field/answers/{cid}/", body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 201]
    assert FieldRecord.objects.filter(client_id=cid).count() == 1
    item = ChecklistItem.objects.get(pk=field.items[1].pk)
    assert item.result == "fail" and Lead.objects.filter(checklist_items=item).count() == 1
