"""The region level of the jurisdiction hierarchy: a Heilongjiang-like "1+3+13+N" access list."""

import csv

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from django.utils import translation
from rest_framework.test import APIClient

from supervision.errors import ImportRefused
from supervision.zoning.choices import PlanStatus
from supervision.zoning.demo_access import access_demo_load
from supervision.zoning.models import PlanRegion, ZoningPlan
from supervision.zoning.selectors import access_list_structure, requirements_for_unit
from supervision.zoning.services import access_list_import, plan_revise, regions_import
from tests.factories import DivisionFactory, PlanFactory, UnitFactory, square
from tests.zoning.access_plan import build_plan, row, write_csv
from tests.zoning.test_import import run

pytestmark = pytest.mark.django_db

# Heilongjiang's 13 prefecture-level divisions; one county and one unit in each.
PREFECTURES = [
    "230100",
    "230200",
    "230300",
    "230400",
    "230500",
    "230600",
    "230700",
    "230800",
    "230900",
    "231000",
    "231100",
    "231200",
    "232700",
]
REGIONS = [
    ("R-HC", "哈长城市群", PREFECTURES[0:3] + PREFECTURES[5:6]),
    ("R-SL", "大小兴安岭", [PREFECTURES[6], PREFECTURES[10], PREFECTURES[12]]),
    ("R-SJ", "三江平原", [PREFECTURES[3], PREFECTURES[4], PREFECTURES[7], PREFECTURES[8], PREFECTURES[9]]),
]
# 231200 (绥化) lies in no region: the province's list governs it directly.
N_UNITS = 4  # small N: unit lists for the first four units


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def county(prefecture: str) -> str:
    return prefecture[:4] + "02"


def unit_code(prefecture: str) -> str:
    return f"ZH{county(prefecture)}10001"


def write_regions(path, rows, header=("区域编码", "区域名称", "所辖行政区")):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def region_rows(regions=REGIONS):
    return [(code, name, ";".join(members)) for code, name, members in regions]


@pytest.fixture
def province():
    """hlj-test: a provincial draft with 13 units, one per prefecture, side by side."""
    plan = PlanFactory(code="hlj-test", name="黑龙江省测试方案", region_adcode="230000", status=PlanStatus.DRAFT)
    for i, prefecture in enumerate(PREFECTURES):
        DivisionFactory(adcode=prefecture, name=f"地市{prefecture}", level="city")
        division = DivisionFactory(adcode=county(prefecture), name=f"区县{county(prefecture)}", level="county")
        UnitFactory(
            plan=plan,
            division=division,
            code=unit_code(prefecture),
            unit_class="priority",
            geom=square(126.0 + 0.01 * i, 45.0),
        )
    return plan


def hlj_list():
    """1 province list, 3 region lists, 13 prefecture lists, N unit lists."""
    rows = [row("总体", "hlj-test", "P-1", "禁止", "C2511", text="全省禁止新建炼油")]
    rows += [row("重点区域", code, f"R-{code}", "限制", "C26", text=f"{name}限制化工") for code, name, _m in REGIONS]
    rows += [row("区县", p, f"D-{p}", "要求", "", text=f"{p}要求") for p in PREFECTURES]
    rows += [row("单元", unit_code(p), f"U-{p}", "禁止", "C26", text="单元禁止化工") for p in PREFECTURES[:N_UNITS]]
    return rows


@pytest.fixture
def layered(province, tmp_path):
    code, out, err = run("import_regions", write_regions(tmp_path / "regions.csv", region_rows()), "--plan", "hlj-test")
    assert code == 0, err
    assert out.strip() == "imported 3 key regions into plan hlj-test"
    access_list_import(path=write_csv(tmp_path / "list.csv", hlj_list()), plan_code="hlj-test")
    return province


def test_a_1_3_13_n_list_has_its_layers_and_its_count(layered):
    structure = access_list_structure(plan=layered)
    assert structure["structure"] == f"1+3+13+{N_UNITS}"
    assert {layer["layer"]: layer["count"] for layer in structure["layers"]} == {
        "plan": 1,
        "region": 3,
        "basin": 0,
        "prefecture": 13,
        "county": 0,
        "unit": N_UNITS,
    }
    # A unit in 哈尔滨 is governed by the province, its region, its prefecture and itself, top down.
    unit = layered.units.get(code=unit_code("230100"))
    assert [(c.level, c.scope_code) for c in requirements_for_unit(unit=unit)] == [
        ("plan", "hlj-test"),
        ("region", "R-HC"),
        ("division", "230100"),
        ("unit", unit_code("230100")),
    ]
    # 绥化 lies in no region: no region clause reaches it.
    unit = layered.units.get(code=unit_code("231200"))
    assert [c.level for c in requirements_for_unit(unit=unit)] == ["plan", "division"]


def test_the_count_is_on_the_api_and_the_pages(layered, client, django_user_model):
    user = django_user_model.objects.create_user("planner_r", password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name="planner")[0])
    api = APIClient()
    api.force_authenticate(user)
    body = api.get("/api/v1/zoning/plans/hlj-test/").json()
    assert body["access_list"]["structure"] == f"1+3+13+{N_UNITS}"
    assert [r["code"] for r in body["regions"]] == ["R-HC", "R-SL", "R-SJ"]
    assert body["regions"][1]["division_adcodes"] == ["230700", "231100", "232700"]
    clauses = api.get("/api/v1/zoning/access-requirements/", {"plan": "hlj-test", "level": "region"}).json()
    assert sorted(c["scope_code"] for c in clauses["results"]) == ["R-HC", "R-SJ", "R-SL"]
    client.force_login(user)
    page = client.get("/plans/hlj-test/").content.decode()
    assert f'data-structure="1+3+13+{N_UNITS}"' in page and "R-SL" in page
    assert f'<td class="access-structure">1+3+13+{N_UNITS}</td>' in client.get("/plans/").content.decode()
    card = client.get(f"/map/units/hlj-test/{unit_code('230100')}/").content.decode()
    for heading, number in (("Key regions", "R-R-HC"), ("Prefectures", "D-230100")):
        assert heading in card and number in card
    assert card.index("R-R-HC") < card.index("D-230100") < card.index("U-230100")


@pytest.mark.parametrize(
    "higher, lower",
    [
        # a prefecture may not allow what its region restricts
        (row("重点区域", "R-HC", "H", "限制", "C26"), row("区县", "230100", "L", "允许", "C2614")),
        # a unit may not merely restrict what its region prohibits
        (row("重点区域", "R-SJ", "H", "禁止", "C26"), row("单元", unit_code("230400"), "L", "限制", "C26")),
        # a region may not allow what the province prohibits
        (row("总体", "hlj-test", "H", "禁止", "C25"), row("重点区域", "R-SL", "L", "允许", "C2511")),
        # nor what the province, named as a division, restricts
        (row("区县", "230000", "H", "限制", "C25"), row("重点区域", "R-SL", "L", "允许", "C25")),
    ],
)
def test_a_looser_clause_under_or_in_a_region_is_refused_quoting_both(province, tmp_path, higher, lower):
    run("import_regions", write_regions(tmp_path / "regions.csv", region_rows()), "--plan", "hlj-test")
    with pytest.raises(ImportRefused) as exc:
        access_list_import(path=write_csv(tmp_path / "pair.csv", [higher, lower]), plan_code="hlj-test")
    (problem,) = exc.value.problems
    assert problem.startswith("row 3: never looser") and "clause L" in problem and "clause H" in problem
    assert "「条款L」" in problem and "「条款H」" in problem
    assert not province.requirements.exists()


def test_a_clause_outside_the_region_is_not_its_business(province, tmp_path):
    run("import_regions", write_regions(tmp_path / "regions.csv", region_rows()), "--plan", "hlj-test")
    rows = [
        row("重点区域", "R-HC", "H", "禁止", "C26"),
        row("区县", "231200", "L1", "允许", "C26"),  # 绥化: in no region
        row("单元", unit_code("230700"), "L2", "允许", "C26"),  # 伊春: in R-SL
        row("重点区域", "R-SL", "L3", "允许", "C26"),  # a region beside, not under, R-HC
    ]
    assert access_list_import(path=write_csv(tmp_path / "ok.csv", rows), plan_code="hlj-test").created == 4


def test_an_unknown_region_code_is_refused_with_one_line(province, tmp_path):
    run("import_regions", write_regions(tmp_path / "regions.csv", region_rows()), "--plan", "hlj-test")
    path = write_csv(tmp_path / "bad.csv", [row("总体", "hlj-test", "P-1"), row("重点区域", "R-XX", "R-1")])
    code, out, err = run("import_access_list", path, "--plan", "hlj-test")
    assert code == 1
    first, last = err.splitlines()
    assert first == (
        "row 3, column 范围编码: no key region (重点区域) 'R-XX' in plan hlj-test; import the plan's regions "
        "first (import_regions)"
    )
    assert last.endswith("bad.csv: refused, 1 problem(s); nothing was written.")
    assert not province.requirements.exists()


@pytest.mark.parametrize(
    "rows, problem",
    [
        (
            [("R-1", "区域一", "220100")],
            "row 2, column 所辖行政区: '220100' is not a prefecture or county inside plan hlj-test's jurisdiction 230000",
        ),
        (
            [("R-1", "区域一", "230000")],
            "row 2, column 所辖行政区: '230000' is a province; a key region groups prefectures or counties below "
            "the province",
        ),
        (
            [("R-1", "区域一", "230100"), ("R-2", "区域二", "230102")],
            "row 3, column 所辖行政区: '230102' already lies in region 'R-1' (through '230100'); a division "
            "belongs to one key region",
        ),
        ([("R-1", "区域一", "233000")], "row 2, column 所辖行政区: no unit of plan hlj-test lies in '233000'"),
        ([("R-1", "区域一", "2301")], "row 2, column 所辖行政区: '2301' is not a 6-digit administrative division code"),
        (
            [("R-1", "区域一", "230100"), ("R-1", "区域二", "230200")],
            "row 3, column 区域编码: duplicate region code 'R-1' (first on row 2)",
        ),
        ([("R-1", "", "230100")], "row 2, column 区域名称: empty; every region needs a name"),
    ],
)
def test_region_import_refuses_bad_rows(province, tmp_path, rows, problem):
    code, out, err = run("import_regions", write_regions(tmp_path / "r.csv", rows), "--plan", "hlj-test")
    assert code == 1 and err.splitlines()[0] == problem
    assert not PlanRegion.objects.exists()


def test_replacing_regions_keeps_the_list_whole(layered, tmp_path):
    # Dropping a region the list names is refused.
    path = write_regions(tmp_path / "two.csv", region_rows(REGIONS[:2]))
    with pytest.raises(ImportRefused) as exc:
        regions_import(path=path, plan_code="hlj-test", replace=True)
    assert exc.value.problems == [
        "plan hlj-test: clause R-R-SJ names region 'R-SJ', which this file drops; replace the access list first"
    ]
    # Moving 哈尔滨 (whose unit prohibits C26) is fine; moving a prefecture that allows what a region
    # restricts is refused, and the old regions stay.
    access_list_import(
        path=write_csv(tmp_path / "add.csv", [row("区县", "231200", "D-ALLOW", "允许", "C2614")]),
        plan_code="hlj-test",
    )
    moved = [(code, name, [*members, "231200"] if code == "R-SJ" else members) for code, name, members in REGIONS]
    with pytest.raises(ImportRefused) as exc:
        regions_import(
            path=write_regions(tmp_path / "moved.csv", region_rows(moved)), plan_code="hlj-test", replace=True
        )
    (problem,) = exc.value.problems
    assert problem.startswith("plan hlj-test: never looser: clause D-ALLOW") and "clause R-R-SJ" in problem
    assert PlanRegion.objects.get(plan=layered, code="R-SJ").division_adcodes == REGIONS[2][2]


def test_regions_follow_the_version_and_are_immutable_once_filed(layered, tmp_path):
    draft = plan_revise(from_code="hlj-test", to_code="hlj-test-2", actor=None)
    assert list(draft.regions.values_list("code", "division_adcodes")) == [
        (code, sorted(members)) for code, _n, members in REGIONS
    ]
    assert access_list_structure(plan=draft)["structure"] == f"1+3+13+{N_UNITS}"
    ZoningPlan.objects.filter(pk=layered.pk).update(status=PlanStatus.EFFECTIVE)
    with pytest.raises(DatabaseError, match="its content cannot change"), transaction.atomic():
        PlanRegion.objects.filter(plan=layered).update(name="改名")
    code, out, err = run(
        "import_regions", write_regions(tmp_path / "again.csv", region_rows()), "--plan", "hlj-test", "--replace"
    )
    assert code == 1 and "its units, overlays and access list cannot change" in err


def test_changchun_keeps_its_1_2_n_n_structure(tmp_path):
    """The small Changchun-like plan's demo list: the selector counts what the demo line prints."""
    plan = build_plan()
    line = access_demo_load(plan)[0]
    assert line.startswith("zoning: access list 1+2+2+3 for cc-test")
    assert access_list_structure(plan=plan)["structure"] == "1+2+2+3"
    assert access_list_structure(plan=plan)["other_overlays"] == 1  # the red line is no list layer


@pytest.mark.parametrize("fmt", ["gpkg", "shp"])
def test_an_export_imports_back_with_its_regions(layered, tmp_path, fmt, settings):
    from supervision.zoning.vector_export import plan_export

    settings.LANGUAGE_CODE = "zh-hans"  # the files carry the site language's labels, as in production

    before = access_list_structure(plan=layered)
    regions = list(layered.regions.values_list("code", "name", "division_adcodes"))
    path = tmp_path / ("plan.gpkg" if fmt == "gpkg" else "plan")
    plan_export(plan=layered, fmt=fmt, path=str(path))
    layered.delete()
    if fmt == "gpkg":
        steps = [
            ("import_units", str(path), "--plan", "hlj-test", "--layer", "units"),
            ("import_regions", str(path), "--plan", "hlj-test"),
            ("import_access_list", str(path), "--plan", "hlj-test"),
        ]
    else:
        steps = [
            ("import_units", str(path / "units.shp"), "--plan", "hlj-test"),
            ("import_regions", str(path / "regions.csv"), "--plan", "hlj-test"),
            ("import_access_list", str(path / "access_list.csv"), "--plan", "hlj-test"),
        ]
    for step in steps:
        code, out, err = run(*step)
        assert code == 0, (step, err)
    plan = ZoningPlan.objects.get(code="hlj-test")
    assert plan.region_adcode == "230000"
    assert list(plan.regions.values_list("code", "name", "division_adcodes")) == regions
    assert access_list_structure(plan=plan) == before


def test_siting_is_decided_by_the_region_clause(layered):
    from django.conf import settings
    from django.contrib.gis.geos import Point

    from supervision.zoning.selectors import siting_evaluate

    ZoningPlan.objects.filter(pk=layered.pk).update(status=PlanStatus.EFFECTIVE)
    layered.refresh_from_db()
    # 大庆 (230600) lies in 哈长城市群, which restricts C26; its unit has no list of its own.
    site = Point(126.055, 45.005, srid=settings.STORAGE_SRID)
    result = siting_evaluate(plan=layered, geometry=site, industry_code="C2614", project_type="new")
    assert result.verdict == "restricted"
    assert [(c.level, c.scope_code) for c in result.deciding] == [("region", "R-HC")]
    # 绥化 (231200) lies in no region: nothing restricts chemicals there.
    site = Point(126.115, 45.005, srid=settings.STORAGE_SRID)
    assert siting_evaluate(plan=layered, geometry=site, industry_code="C2614", project_type="new").verdict == "allowed"


def test_the_plan_list_reads_every_structure_in_the_same_queries(layered, django_user_model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PlanFactory

    user = django_user_model.objects.create_user("planner_q", password="pw-123456")
    api = APIClient()
    api.force_authenticate(user)

    def listed():
        with CaptureQueriesContext(connection) as queries:
            body = api.get("/api/v1/zoning/plans/", {"page_size": 100}).json()
        rows = body["results"] if isinstance(body, dict) else body
        return {p["code"]: p["access_list"]["structure"] for p in rows}, len(queries)

    before, n_before = listed()
    assert before["hlj-test"] == f"1+3+13+{N_UNITS}"
    for i in range(5):
        PlanFactory(code=f"more-{i}")
    after, n_after = listed()
    assert len(after) == len(before) + 5 and after["hlj-test"] == f"1+3+13+{N_UNITS}"
    assert n_after == n_before  # five more plans, not ten more queries
