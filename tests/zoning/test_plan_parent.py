"""Changing a plan's parent plan: one service behind the API, the page and `plan_parent`; every refusal."""

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from django.utils import translation
from rest_framework.test import APIClient

from supervision.zoning.choices import PlanStatus
from supervision.zoning.models import ControlUnit, PlanUpdate, ZoningPlan
from supervision.zoning.services import access_list_import
from tests.factories import PlanFactory, square
from tests.zoning.access_plan import U_G, U_K, build_plan, row, write_csv
from tests.zoning.test_import import run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def plans(tmp_path):
    """cc-test (a city draft) allowing C2614 in U_K; jl-2024, the province's plan, prohibiting C26 over U_K."""
    city = build_plan()
    province = PlanFactory(code="jl-2024", name="吉林省方案", region_adcode="220000", status=PlanStatus.DRAFT)
    ControlUnit.objects.create(
        plan=province,
        division=city.units.first().division,
        code="ZH22010210777",
        name="省级单元",
        unit_class="priority",
        geom=square(125.30, 43.80, 0.015),  # meets U_P and U_K, not U_G
    )
    access_list_import(
        path=write_csv(tmp_path / "p.csv", [row("单元", "ZH22010210777", "P-1", "禁止", "C26", text="省禁止化工")]),
        plan_code="jl-2024",
    )
    ZoningPlan.objects.filter(pk=province.pk).update(status=PlanStatus.EFFECTIVE)
    access_list_import(
        path=write_csv(tmp_path / "c.csv", [row("单元", U_K, "C-1", "允许", "C2614", text="市允许")]),
        plan_code="cc-test",
    )
    PlanFactory(code="hlj-2024", name="黑龙江省方案", region_adcode="230000")
    PlanFactory(code="cc-other", name="长春另一方案", region_adcode="220100")
    return city, ZoningPlan.objects.get(pk=province.pk)


def _user(django_user_model, name, role):
    user = django_user_model.objects.create_user(name, password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def api(django_user_model):
    client = APIClient()
    client.force_authenticate(_user(django_user_model, "planner_a", "planner"))
    return client


def _post(api, code, parent, **extra):
    return api.post(f"/api/v1/zoning/plans/{code}/parent/", {"parent": parent, **extra}, format="json")


def _make_allowed_clause_harmless():
    """Move the city's allow clause to U_G, which the provincial unit does not meet."""
    from supervision.zoning.models import AccessRequirement

    AccessRequirement.objects.filter(plan__code="cc-test", number="C-1").update(scope_code=U_G)


def test_api_refuses_a_parent_the_plan_would_be_looser_than_quoting_both(plans, api):
    r = _post(api, "cc-test", "jl-2024")
    assert r.status_code == 400 and r.json()["code"] == "never_looser"
    assert r.json()["detail"] == "Plan cc-test would be looser than jl-2024; the parent plan was not changed."
    (problem,) = r.json()["problems"]
    assert "「市允许」" in problem and "「省禁止化工」" in problem and "(parent plan jl-2024)" in problem
    assert ZoningPlan.objects.get(code="cc-test").parent is None


def test_api_sets_and_clears_the_parent_and_logs_it(plans, api):
    _make_allowed_clause_harmless()
    r = _post(api, "cc-test", "jl-2024", reason="省级方案发布")
    assert r.status_code == 200, r.json()
    assert r.json()["parent"] == "jl-2024"
    assert ZoningPlan.objects.get(code="cc-test").parent.code == "jl-2024"
    r = _post(api, "cc-test", None)
    assert r.status_code == 200 and r.json()["parent"] is None
    log = list(PlanUpdate.objects.filter(plan__code="cc-test").order_by("id").values_list("what", "why"))
    assert log == [("Parent plan: none → jl-2024.", "省级方案发布"), ("Parent plan: jl-2024 → none.", "")]


@pytest.mark.parametrize(
    "code, parent, error, detail",
    [
        ("cc-test", "cc-test", "plan_parent_cycle", "Plan cc-test cannot be the parent of cc-test"),
        (
            "cc-test",
            "hlj-2024",
            "plan_parent_jurisdiction",
            "Plan hlj-2024 (jurisdiction 230000) cannot be the parent of cc-test (jurisdiction 220100): a parent "
            "plan belongs to a higher jurisdiction that contains it.",
        ),
        ("cc-test", "cc-other", "plan_parent_jurisdiction", "Plan cc-other (jurisdiction 220100)"),
    ],
)
def test_api_refuses_cycles_and_foreign_jurisdictions(plans, api, code, parent, error, detail):
    r = _post(api, code, parent)
    assert r.status_code == 400 and r.json()["code"] == error and r.json()["detail"].startswith(detail)
    assert ZoningPlan.objects.get(code=code).parent is None


def test_a_parent_under_the_plan_is_a_cycle(plans, api):
    _make_allowed_clause_harmless()
    city, province = plans
    # A county list under the city plan cannot become the city plan's parent (it lies under it), and the
    # province cannot sit under its own child.
    county = PlanFactory(code="nanguan", name="南关区清单", region_adcode="220102", status=PlanStatus.DRAFT)
    assert _post(api, "nanguan", "cc-test").status_code == 200
    ZoningPlan.objects.filter(pk=province.pk).update(status=PlanStatus.DRAFT)
    assert _post(api, "cc-test", "jl-2024").status_code == 200
    r = _post(api, "jl-2024", "nanguan")
    assert r.status_code == 400 and r.json()["code"] == "plan_parent_cycle"
    assert "lies under it" in r.json()["detail"]
    assert ZoningPlan.objects.get(pk=county.pk).parent == city


def test_a_plan_under_the_plan_may_not_be_looser_than_the_new_parent(plans, api, tmp_path):
    _make_allowed_clause_harmless()
    city, _province = plans
    county = PlanFactory(code="nanguan", name="南关区清单", region_adcode="220102", status=PlanStatus.DRAFT)
    ControlUnit.objects.create(
        plan=county,
        division=city.units.first().division,
        code="ZH22010220009",
        name="南关区单元",
        unit_class="key",
        geom=square(125.31, 43.80),  # meets the provincial unit that prohibits C26
    )
    access_list_import(
        path=write_csv(tmp_path / "n.csv", [row("单元", "ZH22010220009", "N-1", "允许", "C2614", text="区允许")]),
        plan_code="nanguan",
    )
    assert _post(api, "nanguan", "cc-test").status_code == 200
    r = _post(api, "cc-test", "jl-2024")
    assert r.status_code == 400 and r.json()["code"] == "never_looser"
    (problem,) = r.json()["problems"]
    assert problem.startswith("plan nanguan: never looser") and "「区允许」" in problem and "「省禁止化工」" in problem
    assert ZoningPlan.objects.get(code="cc-test").parent is None


def test_an_effective_plan_keeps_its_parent_in_the_service_and_the_database(plans, api):
    _make_allowed_clause_harmless()
    ZoningPlan.objects.filter(code="cc-test").update(status=PlanStatus.EFFECTIVE)
    r = _post(api, "cc-test", "jl-2024")
    assert r.status_code == 400 and r.json()["code"] == "plan_not_draft"
    assert "revise it into a new draft with the new parent (plan_revise --parent)" in r.json()["detail"]
    province = ZoningPlan.objects.get(code="jl-2024")
    with pytest.raises(DatabaseError, match="its parent plan cannot change"), transaction.atomic():
        ZoningPlan.objects.filter(code="cc-test").update(parent=province)
    assert ZoningPlan.objects.get(code="cc-test").parent is None


def test_api_input_errors_and_roles(plans, api, django_user_model):
    r = _post(api, "cc-test", "no-such-plan")
    assert r.status_code == 400 and "parent" in r.json()["detail"]
    r = api.post("/api/v1/zoning/plans/cc-test/parent/", {}, format="json")
    assert r.status_code == 400 and "parent" in r.json()["detail"]
    assert _post(api, "no-such-plan", "jl-2024").status_code == 404
    officer = APIClient()
    officer.force_authenticate(_user(django_user_model, "officer_x", "enforcement_officer"))
    assert _post(officer, "cc-test", "jl-2024").status_code == 403


def test_command_sets_and_refuses_with_one_line(plans):
    code, out, err = run("plan_parent", "cc-test", "--parent", "hlj-2024")
    assert code == 1 and err.startswith("Plan hlj-2024 (jurisdiction 230000) cannot be the parent of cc-test")
    _make_allowed_clause_harmless()
    code, out, err = run("plan_parent", "cc-test", "--parent", "jl-2024")
    assert code == 0 and out.strip() == "plan cc-test: parent jl-2024"
    code, out, err = run("plan_parent", "cc-test", "--clear")
    assert code == 0 and out.strip() == "plan cc-test: parent none"


def test_plan_revise_refuses_a_parent_of_another_jurisdiction(plans):
    code, out, err = run("plan_revise", "--from", "cc-test", "--to", "cc-x", "--parent", "hlj-2024")
    assert code == 1 and "cannot be the parent of cc-x" in err
    assert not ZoningPlan.objects.filter(code="cc-x").exists()


# --- the page -------------------------------------------------------------------------------


def test_the_page_offers_containing_plans_and_sets_the_parent(plans, client, django_user_model):
    client.force_login(_user(django_user_model, "planner_p", "planner"))
    detail = client.get("/plans/cc-test/").content.decode()
    assert 'href="/plans/cc-test/parent/"' in detail
    page = client.get("/plans/cc-test/parent/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="form-parent"' in html
    assert 'value="jl-2024"' in html and 'value="hlj-2024"' not in html and 'value="cc-other"' not in html

    # Refused: the page shows the service's message and both clauses, nothing changes.
    r = client.post("/plans/cc-test/parent/", {"parent": "jl-2024", "reason": ""})
    html = r.content.decode()
    assert r.status_code == 400 and 'id="parent-errors"' in html
    assert "Plan cc-test would be looser than jl-2024" in html and "「省禁止化工」" in html
    r = client.post("/plans/cc-test/parent/", {"parent": "hlj-2024"})
    assert r.status_code == 400 and "a parent plan belongs to a higher jurisdiction" in r.content.decode()
    r = client.post("/plans/cc-test/parent/", {"parent": "nope"})
    assert r.status_code == 400 and "parent:" in r.content.decode()
    assert ZoningPlan.objects.get(code="cc-test").parent is None

    _make_allowed_clause_harmless()
    r = client.post("/plans/cc-test/parent/", {"parent": "jl-2024", "reason": "省级方案"}, follow=True)
    assert r.redirect_chain[-1][0] == "/plans/cc-test/"
    assert "Plan cc-test now refers to jl-2024." in [str(m) for m in r.context["messages"]]
    r = client.post("/plans/cc-test/parent/", {"parent": ""}, follow=True)
    assert "Plan cc-test now refers to no parent plan." in [str(m) for m in r.context["messages"]]
    assert ZoningPlan.objects.get(code="cc-test").parent is None


def test_the_page_refuses_in_chinese_too(plans, client, django_user_model):
    client.force_login(_user(django_user_model, "planner_z", "planner"))
    with translation.override("zh-hans"):
        r = client.post("/plans/cc-test/parent/", {"parent": "hlj-2024"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = r.content.decode()
    assert r.status_code == 400
    assert "上级方案应属于包含本方案的上级行政区" in html and "a parent plan belongs" not in html


def test_the_page_is_for_planners_and_locked_once_filed(plans, client, django_user_model):
    client.force_login(_user(django_user_model, "officer_p", "enforcement_officer"))
    assert client.get("/plans/cc-test/parent/").status_code == 403
    assert client.post("/plans/cc-test/parent/", {"parent": ""}).status_code == 403
    assert 'id="parent-link"' not in client.get("/plans/cc-test/").content.decode()
    client.force_login(_user(django_user_model, "planner_q", "planner"))
    ZoningPlan.objects.filter(code="cc-test").update(status=PlanStatus.FILED)
    html = client.get("/plans/cc-test/parent/").content.decode()
    assert 'id="parent-locked"' in html and 'id="form-parent"' not in html
    r = client.post("/plans/cc-test/parent/", {"parent": ""})
    assert r.status_code == 400 and "its parent plan cannot change" in r.content.decode()
    client.logout()
    assert client.get("/plans/cc-test/parent/").status_code == 302
