"""Score exports never hand a spreadsheet a live formula, in CSV or XLSX."""

import csv
import io

import pytest
from openpyxl import load_workbook

from supervision.assessment import export, services
from supervision.assessment.periods import period_parse
from supervision.zoning.models import AdministrativeDivision

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example","点击")'


def test_score_exports_write_a_formula_like_division_name_as_text(scenario, users):
    AdministrativeDivision.objects.filter(pk=scenario.A.pk).update(name=EVIL)
    result = services.scores_compute(plan=scenario.plan, period=period_parse("2025-Q3"), check_role=False)
    for card in result.computed:
        services.scorecard_publish(scorecard=card, actor=users.admin)
    text = export.export_csv(plan_code=scenario.plan.code, period_code="2025-Q3").decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + EVIL in cells and EVIL not in cells
    book = load_workbook(io.BytesIO(export.export_xlsx(plan_code=scenario.plan.code, period_code="2025-Q3")))
    found = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert found and all(c.data_type == "s" for c in found)
