"""Access-list import and export: refusals, the never-looser rule, round trips, the demo list."""

import io

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from supervision.errors import ImportRefused
from supervision.zoning.demo_access import access_demo_load
from supervision.zoning.models import AccessRequirement
from supervision.zoning.services import access_list_import
from tests.zoning.access_plan import U_G, U_K, U_P, build_plan, row, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return build_plan()


def good_rows():
    return [
        row("总体", "cc-test", "QS-01", "禁止", "C31", "全部"),
        row("全市", "220100", "QS-02", "限制", "C26", "新建", dimension="污染物排放管控"),
        row("区域", "LY-SHJ", "SHJ-01", "限制", "C22", "新建", dimension="环境风险防控"),
        row("区域", "HX-0001", "HX-01", "禁止", ""),
        row(
            "区县",
            "220103",
            "220103-01",
            "禁止",
            "C25;c2614",
            "改扩建",
            dimension="资源开发利用效率",
        ),
        row("单元", U_K, f"{U_K}-01", "允许", "C36", "全部"),
        row("单元", U_G, f"{U_G}-01", "要求", "", ""),
    ]


def refused(path, plan_code="cc-test", **kwargs) -> list[str]:
    with pytest.raises(ImportRefused) as exc:
        access_list_import(path=path, plan_code=plan_code, **kwargs)
    return exc.value.problems


def test_import_csv_with_chinese_columns_and_values(plan, tmp_path):
    report = access_list_import(path=write_csv(tmp_path / "list.csv", good_rows()), plan_code="cc-test")
    assert report.created == 7
    rows = {r.number: r for r in AccessRequirement.objects.filter(plan=plan)}
    assert rows["QS-01"].level == "plan" and rows["QS-01"].scope_code == "cc-test"
    # 全市 with the region's adcode is the plan level, stored under the plan's code.
    assert rows["QS-02"].level == "plan" and rows["QS-02"].scope_code == "cc-test"
    assert rows["QS-02"].dimension == "pollutant_discharge" and rows["QS-02"].applies_to == "new"
    assert rows["220103-01"].industry_codes == ["C25", "C2614"]  # normalised
    assert rows["220103-01"].applies_to == "expansion" and rows["220103-01"].dimension == "resource_efficiency"
    assert rows[f"{U_G}-01"].applies_to == "all" and rows[f"{U_G}-01"].industry_codes == []
    assert [r.number for r in AccessRequirement.objects.filter(plan=plan)] == [r[3] for r in good_rows()]


def test_import_accepts_english_columns_and_values(plan, tmp_path):
    header = [
        "level",
        "scope_code",
        "dimension",
        "number",
        "text",
        "action",
        "industry_codes",
        "applies_to",
    ]
    rows = [
        [
            "plan",
            "cc-test",
            "spatial_layout",
            "E-1",
            "no steel",
            "prohibit",
            "C31",
            "all",
        ],
        [
            "overlay",
            "LY-LH",
            "environmental_risk",
            "E-2",
            "basin",
            "Restrict",
            "C26",
            "new",
        ],
        [
            "division",
            "220102",
            "resource_efficiency",
            "E-3",
            "district",
            "require",
            "",
            "expansion",
        ],
        ["unit", U_P, "pollutant_discharge", "E-4", "unit", "allow", "A01", "all"],
    ]
    path = tmp_path / "english.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(header) + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    assert access_list_import(path=str(path), plan_code="cc-test").created == 4
    assert AccessRequirement.objects.get(number="E-2").action == "restrict"


def test_import_reads_gbk_csv_and_xlsx(plan, tmp_path):
    gbk = write_csv(tmp_path / "gbk.csv", good_rows()[:2], encoding="gbk")
    assert access_list_import(path=gbk, plan_code="cc-test").created == 2
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "层级",
            "范围编码",
            "维度",
            "条款编号",
            "条款内容",
            "管控类型",
            "行业代码",
            "适用",
        ]
    )
    sheet.append(
        ["区县", 220102, "空间布局约束", 3.0, "数字单元格", "限制", "C26", "新建"]
    )  # Excel turns codes into numbers
    workbook.save(tmp_path / "list.xlsx")
    assert access_list_import(path=str(tmp_path / "list.xlsx"), plan_code="cc-test").created == 1
    assert AccessRequirement.objects.get(number="3").scope_code == "220102"


@pytest.mark.parametrize(
    "bad, expected",
    [
        (
            row("单元", "ZH22010219999", "X-1"),
            "row 3, column 范围编码: no unit 'ZH22010219999' in plan cc-test",
        ),
        (
            row("区县", "220199", "X-1"),
            "row 3, column 范围编码: no division '220199' with units in plan cc-test",
        ),
        (
            row("区域", "LY-XX", "X-1"),
            "row 3, column 范围编码: no overlay (basin, red line …) 'LY-XX' in plan cc-test",
        ),
        (
            row("总体", "other-plan", "X-1"),
            "row 3, column 范围编码: 'other-plan' is not this plan",
        ),
        (row("乡镇", "220102", "X-1"), "row 3, column 层级: unknown level '乡镇'"),
        (
            row("单元", U_P, "X-1", dimension="生态保护"),
            "row 3, column 维度: unknown dimension '生态保护'",
        ),
        (
            row("单元", U_P, "X-1", action="鼓励"),
            "row 3, column 管控类型: unknown action '鼓励'",
        ),
        (
            row("单元", U_P, "X-1", applies="迁建"),
            "row 3, column 适用: unknown applies-to value '迁建'",
        ),
        (
            row("单元", U_P, "X-1", codes="C26;Z99"),
            "row 3, column 行业代码: unknown industry code 'Z99'",
        ),
        (
            row("单元", U_P, "X-1", codes="C2"),
            "row 3, column 行业代码: malformed industry code 'C2'",
        ),
        (
            row("单元", U_P, "X-1", codes="B26"),
            "row 3, column 行业代码: inconsistent industry code 'B26'",
        ),
        (
            row("单元", U_P, "QS-01"),
            "row 3, column 条款编号: duplicate clause number 'QS-01' (first on row 2)",
        ),
        (row("单元", U_P, ""), "row 3, column 条款编号: empty"),
    ],
)
def test_import_refuses_the_whole_file(plan, tmp_path, bad, expected):
    path = write_csv(tmp_path / "bad.csv", [row("总体", "cc-test", "QS-01", "要求"), bad])
    problems = refused(path)
    assert any(p.startswith(expected) for p in problems), problems
    assert AccessRequirement.objects.count() == 0


def test_import_reports_every_problem_at_once(plan, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            row("单元", "ZH0", "A"),
            row("单元", U_P, "B", action="?", dimension="?"),
            row("区县", "220102", "A"),
        ],
    )
    problems = refused(path)
    assert len(problems) == 4, problems
    assert [p.split(",")[0] for p in problems] == ["row 2", "row 3", "row 3", "row 4"]


def test_import_refuses_missing_columns_and_unknown_formats(plan, tmp_path):
    path = write_csv(tmp_path / "cols.csv", [["总体", "cc-test"]], header=["层级", "范围编码"])
    assert refused(path)[0].startswith("row 1: missing column(s) 维度 (dimension), 条款编号 (number)")
    (tmp_path / "list.txt").write_text("x")
    assert "unsupported format '.txt'" in refused(str(tmp_path / "list.txt"))[0]


def test_import_refuses_numbers_already_in_the_plan_unless_replacing(plan, tmp_path):
    path = write_csv(tmp_path / "list.csv", good_rows())
    access_list_import(path=path, plan_code="cc-test")
    problems = refused(path)
    assert len(problems) == 7 and "clause number 'QS-01' already exists in plan cc-test" in problems[0]
    assert access_list_import(path=path, plan_code="cc-test", replace_all=True).replaced == 7
    assert AccessRequirement.objects.count() == 7


# --- never looser ---------------------------------------------------------------------


def test_never_looser_refuses_unit_allowing_what_its_district_prohibits(plan, tmp_path):
    path = write_csv(
        tmp_path / "looser.csv",
        [
            row("区县", "220102", "NG-01", "禁止", "C26", text="南关区禁止新建化工项目"),
            row("单元", U_K, "UK-01", "允许", "C26", text="单元允许化工项目"),
        ],
    )
    (problem,) = refused(path)
    assert problem.startswith("row 3: never looser")
    assert "「单元允许化工项目」" in problem and "「南关区禁止新建化工项目」" in problem
    assert "clause UK-01" in problem and "clause NG-01" in problem
    assert AccessRequirement.objects.count() == 0


@pytest.mark.parametrize(
    "higher, lower, refused_",
    [
        (
            row("总体", "cc-test", "H", "禁止", "C26"),
            row("单元", U_G, "L", "允许", "C2614"),
            True,
        ),  # prefix
        (
            row("总体", "cc-test", "H", "禁止", "C2614"),
            row("单元", U_G, "L", "允许", "C26"),
            True,
        ),  # broader allow
        (
            row("总体", "cc-test", "H", "禁止", ""),
            row("区县", "220103", "L", "允许", "A01"),
            True,
        ),  # every industry
        (
            row("总体", "cc-test", "H", "禁止", "C26"),
            row("单元", U_G, "L", "允许", "C27"),
            False,
        ),
        (
            row("总体", "cc-test", "H", "禁止", "C26", "新建"),
            row("单元", U_G, "L", "允许", "C26", "改扩建"),
            False,
        ),
        (
            row("区域", "HX-0001", "H", "禁止", ""),
            row("单元", U_P, "L", "允许", "A01"),
            True,
        ),  # red line over U_P
        (
            row("区域", "HX-0001", "H", "禁止", ""),
            row("单元", U_K, "L", "允许", "A01"),
            False,
        ),  # not over U_K
        (
            row("区域", "LY-SHJ", "H", "禁止", "C22"),
            row("区县", "220102", "L", "允许", "C22"),
            True,
        ),
        # LY-SHJ only shares an edge with 宽城区's unit: different places.
        (
            row("区域", "LY-SHJ", "H", "禁止", "C22"),
            row("区县", "220103", "L", "允许", "C22"),
            False,
        ),
        (
            row("区县", "220103", "H", "禁止", "C22"),
            row("单元", U_K, "L", "允许", "C22"),
            False,
        ),  # other district
        (
            row("单元", U_K, "H", "禁止", "C22"),
            row("单元", U_K, "L", "允许", "C22"),
            False,
        ),  # same layer
        (
            row("单元", U_K, "H", "禁止", "C22"),
            row("总体", "cc-test", "L", "允许", "C22"),
            False,
        ),  # higher allows
    ],
)
def test_never_looser_rule(plan, tmp_path, higher, lower, refused_):
    path = write_csv(tmp_path / "pair.csv", [higher, lower])
    if refused_:
        (problem,) = refused(path)
        assert "never looser" in problem
    else:
        assert access_list_import(path=path, plan_code="cc-test").created == 2


def test_never_looser_checks_against_clauses_already_in_the_plan(plan, tmp_path):
    access_list_import(
        path=write_csv(tmp_path / "a.csv", [row("区县", "220102", "NG-01", "禁止", "C26")]),
        plan_code="cc-test",
    )
    (problem,) = refused(write_csv(tmp_path / "b.csv", [row("单元", U_P, "UP-01", "允许", "C261")]))
    assert problem.startswith("row 2: never looser") and "NG-01" in problem


# --- export and round trip ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip(plan, tmp_path, fmt):
    access_list_import(path=write_csv(tmp_path / "list.csv", good_rows()), plan_code="cc-test")
    before = list(
        AccessRequirement.objects.filter(plan=plan).values(
            "level",
            "scope_code",
            "dimension",
            "number",
            "text",
            "action",
            "industry_codes",
            "applies_to",
        )
    )
    first = tmp_path / f"first.{fmt}"
    call_command(
        "export_access_list",
        "--plan",
        "cc-test",
        "--format",
        fmt,
        "--output",
        str(first),
        stderr=io.StringIO(),
    )
    call_command(
        "import_access_list",
        str(first),
        "--plan",
        "cc-test",
        "--replace",
        stdout=io.StringIO(),
    )
    after = list(
        AccessRequirement.objects.filter(plan=plan).values(
            "level",
            "scope_code",
            "dimension",
            "number",
            "text",
            "action",
            "industry_codes",
            "applies_to",
        )
    )
    assert after == before
    second = tmp_path / f"second.{fmt}"
    call_command(
        "export_access_list",
        "--plan",
        "cc-test",
        "--format",
        fmt,
        "--output",
        str(second),
        stderr=io.StringIO(),
    )
    if fmt == "csv":
        assert first.read_bytes() == second.read_bytes()
        text = first.read_text(encoding="utf-8-sig").splitlines()
        assert text[0] == "层级,范围编码,维度,条款编号,条款内容,管控类型,行业代码,适用"
        assert text[5] == "区县,220103,资源开发利用效率,220103-01,条款220103-01,禁止,C25;C2614,改扩建"


def test_export_csv_to_stdout(plan, tmp_path):
    access_list_import(path=write_csv(tmp_path / "list.csv", good_rows()[:1]), plan_code="cc-test")
    out = io.StringIO()
    call_command("export_access_list", "--plan", "cc-test", stdout=out)
    assert out.getvalue().splitlines()[1] == "总体,cc-test,空间布局约束,QS-01,条款QS-01,禁止,C31,全部"


def test_import_command_prints_problems_and_exits_non_zero(plan, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [row("单元", "ZH0", "A"), row("单元", U_P, "B", codes="X1")],
    )
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(
            "import_access_list",
            path,
            "--plan",
            "cc-test",
            stderr=err,
            stdout=io.StringIO(),
        )
    assert exc.value.code == 1
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("row 2, column 范围编码: no unit 'ZH0'")
    assert lines[1].startswith("row 3, column 行业代码:")
    assert lines[-1].endswith("refused, 2 problem(s); nothing was written.")
    with pytest.raises(SystemExit):
        call_command("import_access_list", path, "--plan", "no-such-plan", stderr=io.StringIO())
    out = io.StringIO()
    call_command(
        "import_access_list",
        write_csv(tmp_path / "ok.csv", good_rows()),
        "--plan",
        "cc-test",
        stdout=out,
    )
    assert out.getvalue().strip() == "imported 7 access-list clauses into plan cc-test"


# --- demo list ----------------------------------------------------------------------------


def test_demo_access_list_has_every_layer_and_is_idempotent(plan):
    lines = access_demo_load(plan)
    assert lines[0].startswith("zoning: access list 1+2+2+3 for cc-test")
    rows = list(
        AccessRequirement.objects.filter(plan=plan).values_list(
            "level", "scope_code", "number", "text", "action", "industry_codes"
        )
    )
    levels = {r[0] for r in rows}
    assert levels == {"plan", "overlay", "division", "unit"}
    plan_dims = set(AccessRequirement.objects.filter(plan=plan, level="plan").values_list("dimension", flat=True))
    assert len(plan_dims) == 4
    assert {r[1] for r in rows if r[0] == "overlay"} == {"HX-0001", "LY-SHJ", "LY-LH"}
    by_unit = {r[1]: r for r in rows if r[0] == "unit" and r[2].endswith("-01")}
    assert by_unit[U_P][4] == "prohibit" and by_unit[U_P][5] == ["B", "C", "D"]
    assert by_unit[U_K][4] == "restrict" and "C26" in by_unit[U_K][5]
    assert by_unit[U_G][4] == "require" and by_unit[U_G][5] == []
    # Liao headwaters prohibit paper and tanning; the Songhua only restricts them.
    assert AccessRequirement.objects.get(number="LY-LH-05").action == "prohibit"
    assert not AccessRequirement.objects.filter(number="LY-SHJ-05").exists()
    assert access_demo_load(plan) == lines
    again = list(
        AccessRequirement.objects.filter(plan=plan).values_list(
            "level", "scope_code", "number", "text", "action", "industry_codes"
        )
    )
    assert again == rows
