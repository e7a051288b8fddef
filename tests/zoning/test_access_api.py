"""Access-list and siting API: POST/GET assessments, 400s, the report page, unit detail, public read."""

import pytest
from django.test import override_settings

from supervision.zoning.models import SitingAssessment
from supervision.zoning.services import access_list_import
from tests.zoning.access_plan import (
    PT_KEY,
    PT_RED_LINE,
    U_G,
    U_K,
    U_P,
    build_plan,
    row,
    write_csv,
)

pytestmark = pytest.mark.django_db

LIST = [
    row("总体", "cc-test", "QS-01", "禁止", "C31", text="全市禁止新增钢铁产能"),
    row(
        "区域",
        "HX-0001",
        "HX-01",
        "禁止",
        "",
        text="生态保护红线内禁止开发性、生产性建设活动",
    ),
    row("区域", "LY-SHJ", "SHJ-01", "限制", "C22", "新建", dimension="污染物排放管控"),
    row("区县", "220102", "NG-01", "要求", "C26", dimension="环境风险防控"),
    row(
        "单元",
        U_K,
        "UK-01",
        "限制",
        "C25;C26",
        "新建",
        text="重点单元限制新建石化化工项目",
    ),
    row(
        "单元",
        U_P,
        "UP-01",
        "禁止",
        "B;C;D",
        "新建",
        text="优先保护单元禁止新建工业项目",
    ),
]


@pytest.fixture
def plan(tmp_path):
    plan = build_plan()
    access_list_import(path=write_csv(tmp_path / "list.csv", LIST), plan_code="cc-test")
    # Filed and in force: siting and the public read the plan in force.
    type(plan).objects.filter(pk=plan.pk).update(status="effective")
    plan.refresh_from_db()
    return plan


def body(point=PT_KEY, **extra):
    return {
        "plan": "cc-test",
        "geometry": {"type": "Point", "coordinates": list(point)},
        "industry_code": "C2614",
        "project_type": "new",
        **extra,
    }


def test_post_then_get_siting_assessment(auth_client, plan):
    response = auth_client.post("/api/v1/siting-assessments/", body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["verdict"] == "restricted" and data["red_line"] is False
    assert data["units"] == [
        {
            "code": U_K,
            "name": "南关区重点管控单元",
            "class": "key",
            "overlap_m2": 0.0,
            "share": 1.0,
        }
    ]
    assert [c["number"] for c in data["deciding"]] == ["UK-01"]
    assert [c["number"] for c in data["requirements"]] == ["NG-01", "UK-01"]
    assert data["requirements"][1] == {
        "level": "unit",
        "scope_code": U_K,
        "dimension": "spatial_layout",
        "number": "UK-01",
        "text": "重点单元限制新建石化化工项目",
        "action": "restrict",
    }
    assert data["industry_code"] == "C2614" and data["project_type"] == "new" and data["plan"] == "cc-test"
    assert data["geometry"]["type"] == "Point"
    assert data["geometry"]["coordinates"] == pytest.approx(list(PT_KEY), abs=1e-6)
    fetched = auth_client.get(f"/api/v1/siting-assessments/{data['id']}/").json()
    assert fetched == data
    assert SitingAssessment.objects.get(pk=data["id"]).created_by.username == "planner1"


def test_post_in_cgcs2000_and_polygon(auth_client, plan):
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [
                [125.305, 43.805],
                [125.308, 43.805],
                [125.308, 43.808],
                [125.305, 43.808],
                [125.305, 43.805],
            ]
        ],
    }
    data = auth_client.post(
        "/api/v1/siting-assessments/",
        body(geometry=polygon, srid=4490, industry_code="A0111"),
        format="json",
    ).json()
    assert data["red_line"] is True and data["verdict"] == "prohibited"
    assert [c["number"] for c in data["deciding"]] == ["HX-01"]
    assert data["site_area_m2"] > 0


@pytest.mark.parametrize(
    "override, field, message",
    [
        (
            {"geometry": {"type": "Point", "coordinates": "x"}},
            "geometry",
            "Not a valid GeoJSON geometry",
        ),
        ({"geometry": "not json"}, "geometry", "Not a valid GeoJSON geometry"),
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [0, 1], [1, 0], [0, 0]]],
                }
            },
            "geometry",
            "Self-intersection",
        ),
        (
            {"srid": 999999},
            "srid",
            "999999 is not a known EPSG coordinate reference system",
        ),
        ({"project_type": "relocation"}, "project_type", "relocation"),
        ({"plan": "nope"}, "plan", "nope"),
    ],
)
def test_bad_siting_input_is_400(auth_client, plan, override, field, message):
    response = auth_client.post("/api/v1/siting-assessments/", body(**override), format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])


@pytest.mark.parametrize(
    "override, message",
    [
        ({"industry_code": "Z99"}, "industry_code: unknown industry code 'Z99'"),
        ({"industry_code": "C"}, "whole section"),
        (
            {"geometry": {"type": "Point", "coordinates": [126.5, 44.5]}},
            "The site lies outside every control unit of plan cc-test.",
        ),
    ],
)
def test_service_refusals_are_400_with_a_message(auth_client, plan, override, message):
    response = auth_client.post("/api/v1/siting-assessments/", body(**override), format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert SitingAssessment.objects.count() == 0


def test_unknown_assessment_is_404(auth_client, plan):
    assert auth_client.get("/api/v1/siting-assessments/00000000-0000-0000-0000-000000000000/").status_code == 404


@override_settings(PUBLIC_ZONING=False)
def test_anonymous_siting_refused_without_public_zoning(api_client, auth_client, plan):
    assert api_client.post("/api/v1/siting-assessments/", body(), format="json").status_code in (401, 403)
    assessment_id = auth_client.post("/api/v1/siting-assessments/", body(), format="json").json()["id"]
    assert api_client.get(f"/api/v1/siting-assessments/{assessment_id}/").status_code in (401, 403)
    page = api_client.get(f"/zoning/siting-assessments/{assessment_id}/report/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert api_client.get("/api/v1/zoning/access-requirements/").status_code in (
        401,
        403,
    )
    assert api_client.get("/api/v1/zoning/industries/").status_code in (401, 403)


@override_settings(PUBLIC_ZONING=True)
def test_public_may_assess_and_read_access_lists(api_client, plan):
    # Only a version in force is public.
    type(plan).objects.filter(pk=plan.pk).update(status="effective")
    response = api_client.post("/api/v1/siting-assessments/", body(), format="json")
    assert response.status_code == 201
    assert SitingAssessment.objects.get().created_by is None
    assert api_client.get(f"/api/v1/siting-assessments/{response.json()['id']}/").status_code == 200
    assert api_client.get("/api/v1/zoning/access-requirements/", {"plan": "cc-test"}).json()["count"] == 6
    assert api_client.get(f"/api/v1/zoning/units/cc-test/{U_K}/").status_code == 200


def test_report_page_is_chinese_and_self_contained(auth_client, client, user, plan):
    data = auth_client.post("/api/v1/siting-assessments/", body(point=PT_RED_LINE), format="json").json()
    assert data["report_url"].endswith(f"/zoning/siting-assessments/{data['id']}/report/")
    client.force_login(user)
    page = client.get(f"/zoning/siting-assessments/{data['id']}/report/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "项目选址研判报告",
        "禁止准入",
        "选址涉及生态保护红线",
        "生态保护红线内禁止开发性、生产性建设活动",
        "优先保护单元禁止新建工业项目",
        "区县管控要求",
        "区域管控要求",
        "单元管控要求",
        "空间布局约束",
        U_P,
    ):
        assert text in html, text
    assert "<script" not in html and "http://" not in html and "https://" not in html and "<link" not in html


def test_unit_detail_lists_the_whole_access_list(auth_client, plan):
    feature = auth_client.get(f"/api/v1/zoning/units/cc-test/{U_P}/").json()
    access = feature["properties"]["access_list"]
    assert [c["number"] for c in access] == [
        "QS-01",
        "HX-01",
        "SHJ-01",
        "NG-01",
        "UP-01",
    ]
    assert {c["level"] for c in access} == {"plan", "overlay", "division", "unit"}
    assert access[-1] == {
        "level": "unit",
        "scope_code": U_P,
        "dimension": "spatial_layout",
        "number": "UP-01",
        "text": "优先保护单元禁止新建工业项目",
        "action": "prohibit",
        "industry_codes": ["B", "C", "D"],
        "applies_to": "new",
    }
    general = auth_client.get(f"/api/v1/zoning/units/cc-test/{U_G}/").json()["properties"]["access_list"]
    assert [c["number"] for c in general] == ["QS-01"]


def test_access_requirement_list_filters(auth_client, plan):
    q = {"plan": "cc-test", "level": "unit"}
    data = auth_client.get("/api/v1/zoning/access-requirements/", q, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert [r["number"] for r in data["results"]] == ["UK-01", "UP-01"]
    assert data["results"][0]["level_label"] == "单元" and data["results"][0]["action_label"] == "限制"
    english = auth_client.get("/api/v1/zoning/access-requirements/", q).json()  # the client asks for en
    assert english["results"][0]["level_label"] == "Unit"
    by_scope = auth_client.get("/api/v1/zoning/access-requirements/", {"scope_code": "HX-0001"}).json()
    assert [r["number"] for r in by_scope["results"]] == ["HX-01"]
    by_text = auth_client.get("/api/v1/zoning/access-requirements/", {"q": "钢铁"}).json()
    assert [r["number"] for r in by_text["results"]] == ["QS-01"]
    assert auth_client.get("/api/v1/zoning/access-requirements/", {"dimension": "nonsense"}).status_code == 400


def test_industry_search(auth_client):
    chemicals = auth_client.get("/api/v1/zoning/industries/", {"q": "C26"}).json()
    assert chemicals[0] == {
        "code": "C26",
        "name": "化学原料和化学制品制造业",
        "level": "division",
        "parent": "C",
    }
    assert all(i["code"].startswith("C26") for i in chemicals)
    by_name = auth_client.get("/api/v1/zoning/industries/", {"q": "造纸", "level": "division"}).json()
    assert [i["code"] for i in by_name] == ["C22"]
    sections = auth_client.get("/api/v1/zoning/industries/", {"level": "section"}).json()
    assert len(sections) == 20
    assert auth_client.get("/api/v1/zoning/industries/", {"level": "class"}).status_code == 400
