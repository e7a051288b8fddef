"""Append-only and frozen tables are enforced by PostgreSQL triggers, not only by save()."""

import pytest
from django.db import DatabaseError, connection, transaction

from supervision.cases.models import CaseEvent, InspectionEvent, InspectionPlan, InspectionPlanEvent, LeadEvent
from supervision.cases.services import inspections as insp_svc
from supervision.cases.services import leads as lead_svc

pytestmark = pytest.mark.django_db


def refused(sql, params=()):
    """True when PostgreSQL refuses the statement (inside a savepoint, so the test goes on)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        assert "pgtrigger" in str(exc)
        return True
    return False


@pytest.fixture
def histories(users, make_lead, scene):
    officer = users["officer"]
    lead = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=make_lead(), actor=officer, days=3), actor=officer
    )
    lead_svc.lead_confirm(lead=lead, actor=officer)
    plan = insp_svc.inspection_plan_create(
        actor=users["admin"],
        name="抽查",
        zoning_plan=scene.plan,
        division=scene.nanguan,
        period_start="2025-01-01",
        period_end="2025-03-31",
        target_count=1,
        inspectors_per_target=1,
        avoidance=False,
        seed=7,
    )
    plan = insp_svc.inspection_plan_draw(inspection_plan=plan, actor=users["admin"])
    inspection = plan.inspections.first()
    insp_svc.inspection_start(inspection=inspection, actor=users["admin"])
    return plan


@pytest.mark.parametrize("model", [LeadEvent, CaseEvent, InspectionPlanEvent, InspectionEvent])
def test_raw_update_and_delete_of_workflow_events_fail(histories, model):
    table = model._meta.db_table
    row = model.objects.order_by("id").first()
    assert row is not None
    assert refused(f"UPDATE {table} SET comment = 'rewritten' WHERE id = %s", [row.pk])
    assert refused(f"DELETE FROM {table} WHERE id = %s", [row.pk])
    assert refused(f"DELETE FROM {table}")
    # Through the ORM's queryset too (no save() involved).
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.filter(pk=row.pk).update(comment="rewritten")
    assert model.objects.get(pk=row.pk).comment == row.comment
    # Appending still works.
    assert model.objects.count() >= 1


def test_a_drawn_plans_draw_is_frozen_but_its_status_moves_on(histories, users):
    plan = histories
    table = InspectionPlan._meta.db_table
    assert refused(f"UPDATE {table} SET seed = seed + 1 WHERE id = %s", [plan.pk])
    assert refused(f"UPDATE {table} SET draw_result = '[]'::jsonb WHERE id = %s", [plan.pk])
    assert refused(f"DELETE FROM {table} WHERE id = %s", [plan.pk])
    published = insp_svc.inspection_plan_publish(inspection_plan=plan, actor=users["admin"])
    assert published.status == "published" and published.seed == 7


def test_an_undrawn_plan_can_still_be_edited(users, scene):
    plan = insp_svc.inspection_plan_create(
        actor=users["admin"],
        name="草稿",
        zoning_plan=scene.plan,
        division=scene.nanguan,
        period_start="2025-01-01",
        period_end="2025-03-31",
        target_count=1,
        seed=1,
    )
    assert not refused(f"UPDATE {InspectionPlan._meta.db_table} SET seed = 2 WHERE id = %s", [plan.pk])
