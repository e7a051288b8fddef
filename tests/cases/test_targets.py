"""import_targets: credit codes with their check character, units and divisions, whole-file refusal."""

from io import StringIO

import pytest
from django.core.management import call_command
from openpyxl import Workbook
from pyproj import Transformer

from supervision.cases.models import EnforcementTarget
from supervision.cases.validators import credit_code_check_char
from tests.factories import DivisionFactory, PlanFactory, UnitFactory, square

pytestmark = pytest.mark.django_db


def code(body17: str) -> str:
    return body17 + credit_code_check_char(body17)


GOOD_A = code("91220102MA0Y3K7N1")
GOOD_B = code("91220103MA14XQ2E2")
BAD_CHECK = GOOD_A[:17] + ("0" if GOOD_A[17] != "0" else "1")


@pytest.fixture
def plan():
    plan = PlanFactory()
    UnitFactory(
        plan=plan,
        division=DivisionFactory(adcode="220102", name="南关区"),
        code="ZH22010210001",
        geom=square(125.30, 43.80),
    )
    UnitFactory(
        plan=plan,
        division=DivisionFactory(adcode="220103", name="宽城区"),
        code="ZH22010320001",
        unit_class="key",
        geom=square(125.31, 43.80),
    )
    # Units go into a draft; the database refuses them in an effective plan.
    type(plan).objects.filter(pk=plan.pk).update(status="effective")
    plan.refresh_from_db()
    return plan


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_targets", *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()


def write_csv(tmp_path, rows, header="名称,统一社会信用代码,排污许可证编号,许可管理类别,行业代码,经度,纬度"):
    path = tmp_path / "targets.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="gbk")
    return path


def test_known_credit_code_check_character():
    # A published code (国家市场监督管理总局's own example format): check char per GB 32100-2015.
    assert credit_code_check_char("91350100M000100Y4") == "3"


def test_import_links_targets_to_units_and_divisions(tmp_path, plan):
    path = write_csv(
        tmp_path,
        [
            f"长春示范化工有限公司,{GOOD_A},91220102MA0Y3K7N1X001P,重点管理,C2614,125.305,43.805",
            f"宽城示范热电有限公司,{GOOD_B},,简化管理,D4411,125.315,43.805",
        ],
    )
    code_, out, err = run(str(path), "--plan", "cc-test")
    assert code_ == 0, err
    assert "imported 2 new" in out
    a = EnforcementTarget.objects.get(credit_code=GOOD_A)
    assert a.unit.code == "ZH22010210001" and a.division.adcode == "220102"
    assert a.permit_class == "key" and a.industry_code == "C2614"
    b = EnforcementTarget.objects.get(credit_code=GOOD_B)
    assert b.unit.code == "ZH22010320001" and b.division.name == "宽城区"
    # Re-import updates (no duplicates).
    code_, out, err = run(str(path))  # the only effective plan is the default
    assert code_ == 0 and "updated 2" in out
    assert EnforcementTarget.objects.count() == 2


def test_import_xlsx_wkt_in_projected_srid(tmp_path, plan):
    t = Transformer.from_crs(4490, 32651, always_xy=True)
    (x0, y0), (x1, y1) = t.transform(125.302, 43.802), t.transform(125.304, 43.804)
    wb = Workbook()
    ws = wb.active
    ws.append(["name", "credit_code", "wkt"])
    ws.append(["site polygon", GOOD_A, f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    code_, out, err = run(str(path), "--plan", "cc-test", "--srid", "32651")
    assert code_ == 0, err
    target = EnforcementTarget.objects.get()
    assert target.site is not None and target.unit.code == "ZH22010210001"
    assert target.location.x == pytest.approx(125.303, abs=1e-3)


@pytest.mark.parametrize(
    "row, message",
    [
        (f"坏代码公司,{BAD_CHECK},,,,125.305,43.805", "check character"),
        ("短代码公司,9122010212,,,,125.305,43.805", "must have 18 characters"),
        (f"境外公司,{GOOD_B},,,,100.0,30.0", "outside every unit of plan cc-test"),
        (f"坐标公司,{GOOD_B},,,,abc,43.8", "need numeric coordinates"),
        (f"类别公司,{GOOD_B},,特殊管理,,125.305,43.805", "unknown permit class"),
        (f"行业公司,{GOOD_B},,,Z99,125.305,43.805", "column 行业代码"),
    ],
)
def test_import_refuses_whole_file(tmp_path, plan, row, message):
    path = write_csv(tmp_path, [f"好公司,{GOOD_B if GOOD_A in row else GOOD_A},,,,125.305,43.805", row])
    code_, out, err = run(str(path), "--plan", "cc-test")
    assert code_ == 1
    assert "row 3" in err and message in err, err
    assert EnforcementTarget.objects.count() == 0


def test_import_refuses_repeated_codes_and_missing_columns(tmp_path, plan):
    path = write_csv(tmp_path, [f"a,{GOOD_A},,,,125.305,43.805", f"b,{GOOD_A},,,,125.305,43.805"])
    code_, out, err = run(str(path), "--plan", "cc-test")
    assert code_ == 1 and "repeats row 2" in err
    path = write_csv(tmp_path, [f"a,{GOOD_A}"], header="名称,统一社会信用代码")
    code_, out, err = run(str(path), "--plan", "cc-test")
    assert code_ == 1 and "missing column(s) lon/lat or wkt" in err
    assert EnforcementTarget.objects.count() == 0
