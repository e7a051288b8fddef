"""Project siting assessment at service level: each layer deciding, matching rules, units and red line."""

import io
import json

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.core.management import call_command

from supervision.errors import ServiceError
from supervision.zoning.models import ControlUnit, SitingAssessment, ZoningPlan
from supervision.zoning.selectors import requirements_for_unit, siting_evaluate
from supervision.zoning.services import access_list_import, siting_assess
from tests.factories import plan_content_editable
from tests.zoning.access_plan import (
    PT_GENERAL,
    PT_KEY,
    PT_OUTSIDE,
    PT_PRIORITY,
    PT_RED_LINE,
    U_G,
    U_K,
    U_P,
    build_plan,
    row,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    # Siting reads the plan in force.
    return build_plan(status="effective")


def load(tmp_path, rows):
    # The list goes in as it would in a draft; the plan stays in force for the assessment.
    with plan_content_editable(ZoningPlan.objects.get(code="cc-test")):
        access_list_import(
            path=write_csv(tmp_path / "list.csv", rows),
            plan_code="cc-test",
            replace_all=True,
        )


def assess(plan, point, industry="C2614", project_type="new"):
    return siting_evaluate(
        plan=plan,
        geometry=Point(*point, srid=4326),
        industry_code=industry,
        project_type=project_type,
    )


def numbers(clauses):
    return [c.number for c in clauses]


LIST = [
    row("总体", "cc-test", "QS-01", "禁止", "C31", text="全市禁止新增钢铁产能"),
    row("总体", "cc-test", "QS-02", "要求", "", dimension="资源开发利用效率"),
    row(
        "区域",
        "HX-0001",
        "HX-01",
        "禁止",
        "",
        text="生态保护红线内禁止开发性、生产性建设活动",
    ),
    row("区域", "LY-LH", "LH-01", "禁止", "C22", "新建", text="辽河流域禁止新建造纸项目"),
    row("区域", "LY-SHJ", "SHJ-01", "限制", "C22", "新建", dimension="污染物排放管控"),
    row(
        "区县",
        "220103",
        "KC-01",
        "禁止",
        "C2614",
        "改扩建",
        text="宽城区禁止扩建有机化学原料项目",
    ),
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
    row("单元", U_K, "UK-02", "允许", "C36", text="允许汽车制造"),
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


def test_plan_layer_decides(plan, tmp_path):
    load(tmp_path, LIST)
    result = assess(plan, PT_GENERAL, industry="C3120")
    assert result.verdict == "prohibited" and numbers(result.deciding) == ["QS-01"]
    assert result.deciding[0].as_dict() == {
        "level": "plan",
        "scope_code": "cc-test",
        "dimension": "spatial_layout",
        "number": "QS-01",
        "text": "全市禁止新增钢铁产能",
        "action": "prohibit",
    }


def test_overlay_layer_decides_basin_and_red_line(plan, tmp_path):
    load(tmp_path, LIST)
    liao = assess(plan, PT_GENERAL, industry="C2221")
    assert liao.verdict == "prohibited" and numbers(liao.deciding) == ["LH-01"]
    songhua = assess(plan, PT_KEY, industry="C2221")
    assert songhua.verdict == "restricted" and numbers(songhua.deciding) == ["SHJ-01"]
    farm = assess(plan, PT_RED_LINE, industry="A0111")
    assert farm.verdict == "prohibited" and numbers(farm.deciding) == ["HX-01"] and farm.red_line
    outside_red_line = assess(plan, PT_PRIORITY, industry="A0111")
    assert outside_red_line.verdict == "allowed" and not outside_red_line.red_line


def test_division_layer_decides(plan, tmp_path):
    load(tmp_path, LIST)
    kuancheng = assess(plan, PT_GENERAL, industry="C2614", project_type="expansion")
    assert kuancheng.verdict == "prohibited" and numbers(kuancheng.deciding) == ["KC-01"]
    # The same project in 南关区 meets only a 要求 clause of its district.
    nanguan = assess(plan, PT_KEY, industry="C2614", project_type="expansion")
    assert nanguan.verdict == "allowed" and "NG-01" in numbers(nanguan.requirements) and nanguan.deciding == []


def test_unit_layer_decides(plan, tmp_path):
    load(tmp_path, LIST)
    key = assess(plan, PT_KEY, industry="C2614")
    assert key.verdict == "restricted" and numbers(key.deciding) == ["UK-01"]
    priority = assess(plan, PT_PRIORITY, industry="C1311")
    assert priority.verdict == "prohibited" and numbers(priority.deciding) == ["UP-01"]
    cars = assess(plan, PT_KEY, industry="C3612")
    assert cars.verdict == "allowed" and numbers(cars.deciding) == ["UK-02"]


def test_requirements_are_every_applying_clause_grouped_by_level(plan, tmp_path):
    load(tmp_path, LIST)
    result = assess(plan, PT_KEY, industry="C2614")
    # plan (QS-02 every industry), basin 松花江 does not apply to C26, district 要求, unit 限制.
    assert numbers(result.requirements) == ["QS-02", "NG-01", "UK-01"]
    assert [c.level for c in result.requirements] == ["plan", "division", "unit"]


@pytest.mark.parametrize(
    "clause_codes, project, applies",
    [
        ("C26", "C2614", True),
        ("C", "C1311", True),
        ("C261", "C2614", True),
        ("C2614", "C2614", True),
        ("C261", "C2621", False),
        ("C2614", "C26", False),  # a narrower clause does not catch a broader project
        ("C26", "B0610", False),
        ("", "A0111", True),
        ("C25;C26", "C2614", True),
    ],
)
def test_industry_codes_match_by_prefix(plan, tmp_path, clause_codes, project, applies):
    load(tmp_path, [row("总体", "cc-test", "P", "限制", clause_codes)])
    result = assess(plan, PT_KEY, industry=project)
    assert (result.verdict == "restricted") is applies


@pytest.mark.parametrize(
    "applies_to, project_type, applies",
    [
        ("新建", "new", True),
        ("新建", "expansion", False),
        ("改扩建", "expansion", True),
        ("改扩建", "new", False),
        ("全部", "new", True),
        ("全部", "expansion", True),
    ],
)
def test_project_type(plan, tmp_path, applies_to, project_type, applies):
    load(tmp_path, [row("总体", "cc-test", "P", "禁止", "C26", applies_to)])
    assert (assess(plan, PT_KEY, project_type=project_type).verdict == "prohibited") is applies


def test_site_straddling_two_units_lists_both_with_shares_summing_to_one(plan, tmp_path):
    load(tmp_path, LIST)
    # 0.004° wide across x = 125.31: three quarters in U_P, one quarter in U_K.
    site = Polygon.from_bbox((125.307, 43.803, 125.311, 43.806))
    site.srid = 4326
    result = siting_evaluate(plan=plan, geometry=site, industry_code="C2614", project_type="new")
    assert [u["code"] for u in result.units] == [U_P, U_K]
    assert sum(u["share"] for u in result.units) == pytest.approx(1.0, abs=1e-5)
    assert result.units[0]["share"] == pytest.approx(0.75, abs=1e-3)
    assert result.units[0]["class"] == "priority" and result.units[0]["overlap_m2"] > 0
    assert set(result.units[0]) == {"code", "name", "class", "overlap_m2", "share"}
    # Both units' lists apply: the priority unit's prohibition decides over the key unit's restriction.
    assert result.verdict == "prohibited" and numbers(result.deciding) == ["UP-01"]
    assert {"UP-01", "UK-01"} <= set(numbers(result.requirements))
    assert not result.red_line


def test_point_on_a_shared_boundary_belongs_to_both(plan, tmp_path):
    load(tmp_path, LIST)
    result = assess(plan, (125.32, 43.805), industry="C2221")
    assert [u["code"] for u in result.units] == [U_K, U_G]
    assert [u["share"] for u in result.units] == [0.5, 0.5]
    # A division applies when the site touches one of its units: both districts here.
    assert result.verdict == "prohibited" and numbers(result.deciding) == ["LH-01"]


def test_polygon_site_touching_red_line_flags_it(plan, tmp_path):
    load(tmp_path, LIST)
    site = Polygon.from_bbox((125.305, 43.805, 125.308, 43.808))
    site.srid = 4326
    result = siting_evaluate(plan=plan, geometry=site, industry_code="A0111", project_type="new")
    assert result.red_line and result.verdict == "prohibited" and numbers(result.deciding) == ["HX-01"]


def test_site_in_cgcs2000_srid(plan, tmp_path):
    load(tmp_path, LIST)
    result = siting_evaluate(
        plan=plan,
        geometry=Point(*PT_KEY, srid=4490),
        industry_code="C2614",
        project_type="new",
    )
    assert result.units[0]["code"] == U_K


@pytest.mark.parametrize(
    "industry, message",
    [
        ("Z99", "unknown industry code 'Z99'"),
        ("C2", "malformed industry code"),
        ("C", "whole section"),
    ],
)
def test_bad_industry_is_refused(plan, industry, message):
    with pytest.raises(ServiceError, match=message):
        assess(plan, PT_KEY, industry=industry)


def test_site_outside_the_plan_is_refused(plan):
    with pytest.raises(ServiceError, match="outside every control unit of plan cc-test"):
        assess(plan, PT_OUTSIDE)


def test_siting_assess_stores_the_result(plan, tmp_path):
    load(tmp_path, LIST)
    stored = siting_assess(
        plan=plan,
        geometry=Point(*PT_KEY, srid=4326),
        industry_code="26 14",
        project_type="new",
    )
    stored = SitingAssessment.objects.get(pk=stored.pk)
    assert stored.industry_code == "C2614" and stored.verdict == "restricted" and not stored.red_line
    assert stored.result["deciding"][0]["number"] == "UK-01"
    assert stored.result["units"][0]["code"] == U_K
    assert stored.result["industry_name"] == "基础化学原料制造"  # classes are not tabulated: its group


def test_unit_access_list_spans_the_four_layers(plan, tmp_path):
    load(tmp_path, LIST)
    unit = ControlUnit.objects.select_related("division", "plan").get(code=U_P)
    assert numbers(requirements_for_unit(unit=unit)) == [
        "QS-01",
        "QS-02",
        "HX-01",
        "SHJ-01",
        "NG-01",
        "UP-01",
    ]
    # U_G only shares an edge with 松花江流域: it is governed by 辽河流域 alone.
    unit = ControlUnit.objects.select_related("division", "plan").get(code=U_G)
    assert numbers(requirements_for_unit(unit=unit)) == [
        "QS-01",
        "QS-02",
        "LH-01",
        "KC-01",
    ]


def test_siting_check_command_prints_json(plan, tmp_path):
    load(tmp_path, LIST)
    out = io.StringIO()
    geojson = json.dumps({"type": "Point", "coordinates": list(PT_RED_LINE)})
    call_command(
        "siting_check",
        "--plan",
        "cc-test",
        "--geojson",
        geojson,
        "--industry",
        "C2614",
        "--project-type",
        "new",
        "--format",
        "json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert data["verdict"] == "prohibited" and data["red_line"] is True
    assert numbers_of(data["deciding"]) == ["HX-01", "UP-01"]
    assert data["units"] == [
        {
            "code": U_P,
            "name": "南关区优先保护单元",
            "class": "priority",
            "overlap_m2": 0.0,
            "share": 1.0,
        }
    ]
    assert set(data["requirements"][0]) == {
        "level",
        "scope_code",
        "dimension",
        "number",
        "text",
        "action",
    }


def numbers_of(items):
    return [i["number"] for i in items]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--geojson", '{"type": "Point"}'], "geometry: Not a valid GeoJSON geometry"),
        (
            [
                "--geojson",
                '{"type":"Point","coordinates":[125.315,43.805]}',
                "--srid",
                "999999",
            ],
            "srid: 999999 is not a known",
        ),
        (
            [
                "--geojson",
                '{"type":"Point","coordinates":[125.315,43.805]}',
                "--industry",
                "Q99",
            ],
            "industry_code:",
        ),
        (
            ["--geojson", '{"type":"Point","coordinates":[126.5,44.5]}'],
            "outside every control unit",
        ),
        (
            [
                "--geojson",
                '{"type":"Point","coordinates":[125.315,43.805]}',
                "--plan",
                "nope",
            ],
            "plan: ",
        ),
    ],
)
def test_siting_check_bad_input_exits_non_zero(plan, args, message):
    base = {"--plan": "cc-test", "--industry": "C2614", "--project-type": "new"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(
            "siting_check",
            *[x for kv in base.items() for x in kv],
            stdout=io.StringIO(),
            stderr=err,
        )
    assert exc.value.code == 1
    assert message in err.getvalue()
