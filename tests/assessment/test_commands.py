import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from supervision.assessment.models import Scorecard


def test_compute_scores_command(scenario):
    out = io.StringIO()
    call_command("compute_scores", "--plan", "cc-test", "--period", "2025-Q3", "--scheme", "1", stdout=out)
    text = out.getvalue()
    assert "2 draft(s) computed" in text and "220102 南关区: 52.00" in text and "220103 宽城区: 50.00" in text
    call_command("compute_scores", "--plan", "cc-test", "--period", "2025-Q3", stdout=io.StringIO())
    assert Scorecard.objects.count() == 2  # the default (newest) scheme recomputes the same drafts


@pytest.mark.parametrize(
    "args, message",
    [
        (["--plan", "cc-test", "--period", "2025-Q5"], "is not YYYY"),
        (["--plan", "nope", "--period", "2025"], "No zoning plan 'nope'"),
        (["--plan", "cc-test", "--period", "2025", "--scheme", "9"], "No assessment scheme version 9"),
    ],
)
def test_compute_scores_refuses_bad_input(scenario, args, message):
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("compute_scores", *args, stdout=io.StringIO(), stderr=err)
    assert exc.value.code == 1 and message in err.getvalue()


def test_publish_and_export_commands(scenario, tmp_path):
    call_command("compute_scores", "--plan", "cc-test", "--period", "2025-07", stdout=io.StringIO())
    call_command("publish_scores", "--plan", "cc-test", "--period", "2025-07", stdout=io.StringIO())
    assert set(Scorecard.objects.values_list("status", flat=True)) == {"published"}
    target = tmp_path / "q.xlsx"
    call_command(
        "export_scores", "--plan", "cc-test", "--period", "2025-07", "--output", str(target), stdout=io.StringIO()
    )
    wb = load_workbook(target)
    assert wb["考核结果"].cell(1, 1).value == "排名" and wb["考核结果"].max_row == 3


def test_demo_load_is_idempotent(scenario):
    from supervision.assessment.demo import demo_load
    from supervision.assessment.models import Official

    scenario.plan.code = "changchun-2024"
    scenario.plan.save()
    first = demo_load()
    counts = (Official.objects.count(), Scorecard.objects.count())
    second = demo_load()
    assert counts == (Official.objects.count(), Scorecard.objects.count())
    # 2 districts: A gets 2 secretaries (handover 2025-08-16) + head + deputy, B 3 → 7;
    # cards: 2 districts × the distinct periods among (quarter under way, previous quarter, 2025-Q3)
    from django.utils import timezone

    from supervision.assessment.periods import period_previous

    today = timezone.localdate()
    periods = {f"{today.year}-Q{(today.month - 1) // 3 + 1}", period_previous("quarter", today).code, "2025-Q3"}
    assert counts[0] == 7 and counts[1] == 2 * len(periods)
    assert first[0] == second[0] and "2025-Q3" in "".join(first)
