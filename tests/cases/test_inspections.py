"""Double-random inspections: reproducible weighted draws, avoidance, checklists, failed items raising leads."""

import pytest
from django.core.management import call_command

from supervision.cases import draw
from supervision.cases.models import EnforcementTarget, Lead
from supervision.cases.services import inspections as svc
from supervision.cases.services.users import user_upsert
from supervision.errors import Forbidden, ServiceError
from tests.cases.conftest import credit_code

POOL = [draw.PoolTarget(i, "220102" if i % 2 else "220103", 1.0 + (i % 3)) for i in range(1, 41)]
INSPECTORS = [draw.PoolInspector(100 + i, ["220102", "220103", None][i % 3]) for i in range(9)]


def run(seed, targets=POOL, inspectors=INSPECTORS, count=5, avoidance=True):
    return draw.draw(seed=seed, targets=targets, inspectors=inspectors, count=count, per_target=2, avoidance=avoidance)


def test_same_seed_same_draw_whatever_the_pool_order():
    assert run(42) == run(42) == run(42, targets=list(reversed(POOL)), inspectors=list(reversed(INSPECTORS)))


def test_changed_pool_or_seed_gives_a_different_draw():
    base = run(42)
    assert run(43) != base
    assert run(42, targets=POOL[1:]) != base
    assert run(42, targets=[*POOL, draw.PoolTarget(99, "220102", 3.0)]) != base


def test_avoidance_keeps_inspectors_out_of_their_own_division():
    by_id = {i.id: i.division for i in INSPECTORS}
    divisions = {t.id: t.division for t in POOL}
    for seed in range(30):
        for task in run(seed, count=10):
            assert len(task.inspector_ids) == 2
            assert all(by_id[i] != divisions[task.target_id] for i in task.inspector_ids)


def test_weights_favour_priority_key_and_past_violators():
    heavy = [draw.PoolTarget(i, "220102", 9.0 if i <= 10 else 1.0) for i in range(1, 101)]
    hits = sum(t.target_id <= 10 for seed in range(200) for t in run(seed, targets=heavy, count=10, avoidance=False))
    # Ten targets weighted 9 among ninety weighted 1: far more than their 10 % share of draws.
    assert hits / 2000 > 0.35


def test_draw_refuses_impossible_plans():
    with pytest.raises(draw.DrawError, match="fewer than"):
        run(1, targets=POOL[:3], count=5)
    with pytest.raises(draw.DrawError, match="inspectors may inspect"):
        run(1, inspectors=[draw.PoolInspector(1, "220102"), draw.PoolInspector(2, "220103")])


@pytest.fixture
def inspection_scene(scene, users):
    user_upsert(username="inspector_nanguan", role="inspector", division_adcode="220102")
    user_upsert(username="inspector_kuancheng", role="inspector", division_adcode="220103")
    for n in range(3, 9):
        EnforcementTarget.objects.create(
            name=f"南关企业{n}",
            credit_code=credit_code("220102", n),
            location=scene.target_a.location,
            division=scene.nanguan,
            unit=scene.unit_a if n % 2 else None,
        )
    return scene


def make_plan(scene, users, **kw):
    args = dict(
        actor=users["admin"],
        name="2025年第一季度双随机抽查",
        zoning_plan=scene.plan,
        division=scene.nanguan,
        period_start="2025-01-01",
        period_end="2025-03-31",
        target_count=3,
        seed=20250101,
    )
    args.update(kw)
    return svc.inspection_plan_create(**args)


@pytest.mark.django_db
def test_plan_draw_stores_seed_and_pools_and_verifies(inspection_scene, users):
    plan = svc.inspection_plan_draw(inspection_plan=make_plan(inspection_scene, users), actor=users["admin"])
    assert plan.status == "drawn" and plan.seed == 20250101 and plan.algorithm
    assert [t["id"] for t in plan.target_pool] == sorted(t["id"] for t in plan.target_pool)
    assert len(plan.target_pool) == 7  # target_a + six more, all in 南关区
    assert {i["username"] for i in plan.inspector_pool} == {"inspector", "inspector_nanguan", "inspector_kuancheng"}
    inspections = list(plan.inspections.order_by("draw_order"))
    assert len(inspections) == 3
    for inspection in inspections:
        names = set(inspection.inspectors.values_list("username", flat=True))
        assert len(names) == 2 and "inspector_nanguan" not in names  # avoidance: target is in 南关区
        assert inspection.items.count() >= 4
    assert svc.inspection_plan_verify(inspection_plan=plan)["matches"] is True
    # Tampering with the stored result is detected.
    plan.draw_result = list(reversed(plan.draw_result))
    assert svc.inspection_plan_verify(inspection_plan=plan)["matches"] is False


@pytest.mark.django_db
def test_same_seed_same_draw_through_the_service(inspection_scene, users):
    a = svc.inspection_plan_draw(inspection_plan=make_plan(inspection_scene, users), actor=users["admin"])
    b = svc.inspection_plan_draw(inspection_plan=make_plan(inspection_scene, users, name="again"), actor=users["admin"])
    assert a.draw_result == b.draw_result
    EnforcementTarget.objects.create(
        name="新增企业",
        credit_code=credit_code("220102", 30),
        location=inspection_scene.target_a.location,
        division=inspection_scene.nanguan,
    )
    c = svc.inspection_plan_draw(
        inspection_plan=make_plan(inspection_scene, users, name="larger pool"), actor=users["admin"]
    )
    assert c.draw_result != a.draw_result


@pytest.mark.django_db
def test_weights_record_unit_class_and_past_violations(inspection_scene, users):
    plan = make_plan(inspection_scene, users)
    pool = {t["id"]: t for t in svc.target_pool(inspection_plan=plan)}
    assert pool[inspection_scene.target_a.pk]["weight"] == svc.UNIT_CLASS_WEIGHT["priority"]
    no_unit = EnforcementTarget.objects.filter(unit__isnull=True).first()
    assert pool[no_unit.pk]["weight"] == svc.NO_UNIT_WEIGHT


@pytest.mark.django_db
def test_publish_and_public_listing(inspection_scene, users, api_client):
    plan = svc.inspection_plan_draw(inspection_plan=make_plan(inspection_scene, users), actor=users["admin"])
    assert api_client.get("/api/v1/public/inspection-plans/").json()["count"] == 0
    with pytest.raises(Forbidden):
        svc.inspection_plan_publish(inspection_plan=plan, actor=users["inspector"])
    svc.inspection_plan_publish(inspection_plan=plan, actor=users["admin"])
    body = api_client.get("/api/v1/public/inspection-plans/").json()
    assert body["count"] == 1 and body["results"][0]["seed"] == 20250101
    assert len(body["results"][0]["drawn"]) == 3


@pytest.mark.django_db
def test_failed_item_raises_a_lead_once(inspection_scene, users, client_for):
    plan = svc.inspection_plan_draw(
        inspection_plan=make_plan(inspection_scene, users, target_count=1), actor=users["admin"]
    )
    inspection = plan.inspections.get()
    inspector = inspection.inspectors.first()
    client = client_for("admin") if inspector.username not in ("inspector",) else client_for("inspector")
    client.force_authenticate(inspector)
    assert client.post(f"/api/v1/inspections/{inspection.pk}/start/", {}, format="json").status_code == 200
    items = list(inspection.items.order_by("position"))
    no_note = client.post(
        f"/api/v1/inspections/{inspection.pk}/items/{items[0].pk}/record/", {"result": "fail"}, format="json"
    )
    assert no_note.status_code == 400 and "note" in no_note.json()["detail"]
    r = client.post(
        f"/api/v1/inspections/{inspection.pk}/items/{items[0].pk}/record/",
        {"result": "fail", "note": "废气收集设施未运行"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["lead"]
    lead = Lead.objects.get(pk=r.json()["lead"])
    assert (lead.source, lead.status, lead.target_id) == ("inspection", "new", inspection.target_id)
    assert lead.division_id == inspection.division_id and "废气" in lead.description
    # The inspector who raised it opens it, whichever division it belongs to.
    assert lead.created_by == inspector
    assert client.get(f"/api/v1/leads/{lead.pk}/").status_code == 200
    again = client.post(
        f"/api/v1/inspections/{inspection.pk}/items/{items[0].pk}/record/",
        {"result": "fail", "note": "x"},
        format="json",
    )
    assert again.status_code == 400
    assert Lead.objects.filter(source="inspection").count() == 1
    incomplete = client.post(f"/api/v1/inspections/{inspection.pk}/complete/", {}, format="json")
    assert incomplete.status_code == 400 and "not yet recorded" in incomplete.json()["detail"]
    for item in items[1:]:
        client.post(f"/api/v1/inspections/{inspection.pk}/items/{item.pk}/record/", {"result": "pass"}, format="json")
    done = client.post(f"/api/v1/inspections/{inspection.pk}/complete/", {}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "completed"


@pytest.mark.django_db
def test_only_drawn_inspectors_record(inspection_scene, users):
    plan = svc.inspection_plan_draw(
        inspection_plan=make_plan(inspection_scene, users, target_count=1), actor=users["admin"]
    )
    inspection = plan.inspections.get()
    outsider, _ = user_upsert(username="outsider", role="inspector")
    with pytest.raises(Forbidden):
        svc.inspection_start(inspection=inspection, actor=outsider)


@pytest.mark.django_db
def test_checklist_uses_the_access_list_when_the_unit_has_one(inspection_scene, users):
    from supervision.zoning.models import AccessRequirement
    from tests.factories import plan_content_editable

    unit = inspection_scene.target_a.unit
    # Clauses are written while the plan is a draft (the database refuses them in a plan in force).
    with plan_content_editable(unit.plan):
        for position, (number, dimension, text, codes) in enumerate(
            [
                ("CC-1", "spatial_layout", "禁止新建化工项目", ["C26"]),
                ("CC-2", "pollutant_discharge", "按证排污", []),
                ("CC-3", "spatial_layout", "禁止采砂", ["B10"]),  # another industry: not on the checklist
            ]
        ):
            AccessRequirement.objects.create(
                plan=unit.plan,
                level="unit",
                scope_code=unit.code,
                dimension=dimension,
                number=number,
                text=text,
                action="prohibit",
                industry_codes=codes,
                position=position,
            )
    plan = make_plan(inspection_scene, users, target_count=7)
    plan = svc.inspection_plan_draw(inspection_plan=plan, actor=users["admin"])
    inspection = plan.inspections.get(target=inspection_scene.target_a)  # industry C2614, unit present
    assert inspection.checklist_source == "access_list"
    assert list(inspection.items.values_list("requirement_number", flat=True)) == ["CC-1", "CC-2"]
    assert inspection.items.first().dimension == "空间布局约束"
    without_unit = plan.inspections.filter(unit__isnull=True).first()
    assert without_unit.checklist_source == "plain" and without_unit.items.count() == len(svc.PLAIN_CHECKLIST)


@pytest.mark.django_db
def test_api_create_draw_and_verify(inspection_scene, users, client_for):
    client = client_for("inspector")
    bad = client.post(
        "/api/v1/inspection-plans/",
        {
            "name": "x",
            "zoning_plan": inspection_scene.plan.code,
            "period_start": "2025-03-01",
            "period_end": "2025-01-01",
            "target_count": 1,
            "division": "220102",
        },
        format="json",
    )
    assert bad.status_code == 400 and "ends before" in bad.json()["detail"]
    r = client.post(
        "/api/v1/inspection-plans/",
        {
            "name": "x",
            "zoning_plan": inspection_scene.plan.code,
            "period_start": "2025-01-01",
            "period_end": "2025-03-31",
            "target_count": 2,
            "division": "220102",
            "seed": 5,
        },
        format="json",
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    drawn = client.post(f"/api/v1/inspection-plans/{pid}/draw/", {}, format="json")
    assert drawn.status_code == 200 and len(drawn.json()["draw_result"]) == 2
    assert client.get(f"/api/v1/inspection-plans/{pid}/verify/").json()["matches"] is True
    call_command("verify_draw", str(pid))
    too_many = client.post(
        "/api/v1/inspection-plans/",
        {
            "name": "y",
            "zoning_plan": inspection_scene.plan.code,
            "period_start": "2025-01-01",
            "period_end": "2025-03-31",
            "target_count": 50,
            "division": "220102",
        },
        format="json",
    )
    res = client.post(f"/api/v1/inspection-plans/{too_many.json()['id']}/draw/", {}, format="json")
    assert res.status_code == 400 and "fewer than" in res.json()["detail"]


@pytest.mark.django_db
def test_district_inspector_cannot_plan_city_wide(inspection_scene, users):
    district_inspector, _ = user_upsert(username="insp_d", role="inspector", division_adcode="220103")
    with pytest.raises(ServiceError, match="city-wide"):
        make_plan(inspection_scene, users, actor=district_inspector, division=None)


@pytest.mark.django_db
def test_a_lead_raised_in_another_division_opens_everywhere_but_is_acted_on_by_its_own(make_lead, users, client_for):
    """List, page and API detail agree (one scope, perms.scope_leads); actions stay with the lead's division."""
    lead = make_lead(division="a")
    Lead.objects.filter(pk=lead.pk).update(created_by=users["officer_b"])  # raised by division b's officer
    other = make_lead(division="a")  # of division a, not raised by officer_b
    client = client_for("officer_b")
    listed = {f["id"] for f in client.get("/api/v1/leads/").json()["features"]}
    assert lead.pk in listed and other.pk not in listed
    assert client.get(f"/api/v1/leads/{lead.pk}/").status_code == 200
    assert client.get(f"/api/v1/leads/{other.pk}/").status_code == 404
    acted = client.post(f"/api/v1/leads/{lead.pk}/dispatch/", {"days": 3}, format="json")
    assert acted.status_code == 404, acted.content
    lead.refresh_from_db()
    assert lead.status == "new"
