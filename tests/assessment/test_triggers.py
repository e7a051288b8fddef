"""A published scorecard, its lines and its events are frozen by PostgreSQL triggers."""

import pytest
from django.db import DatabaseError, connection, transaction

from supervision.assessment import services
from supervision.assessment.models import Scorecard, ScorecardEvent, ScorecardIndicator
from supervision.assessment.periods import period_parse

pytestmark = pytest.mark.django_db


def refused(sql, params=()):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        assert "pgtrigger" in str(exc)
        return True
    return False


def test_published_scorecard_lines_and_events_are_frozen_drafts_are_not(scenario, users):
    result = services.scores_compute(plan=scenario.plan, period=period_parse("2025-Q3"), check_role=False)
    draft, other = result.computed[0], result.computed[1]
    card = services.scorecard_publish(scorecard=draft, actor=users.admin)
    cards, lines, events = (m._meta.db_table for m in (Scorecard, ScorecardIndicator, ScorecardEvent))
    assert refused(f"UPDATE {cards} SET score = 100 WHERE id = %s", [card.pk])
    assert refused(f"DELETE FROM {cards} WHERE id = %s", [card.pk])
    assert refused(f"UPDATE {lines} SET points = 0 WHERE scorecard_id = %s", [card.pk])
    assert refused(f"DELETE FROM {lines} WHERE scorecard_id = %s", [card.pk])
    assert refused(f"UPDATE {events} SET comment = 'x' WHERE scorecard_id = %s", [card.pk])
    assert refused(f"DELETE FROM {events} WHERE scorecard_id = %s", [card.pk])
    # A draft is still work in progress: its lines may be recomputed.
    assert not refused(f"UPDATE {lines} SET points = points WHERE scorecard_id = %s", [other.pk])
    # Correcting a published card (a new version; the old one superseded on publication) still works.
    fix = services.scorecard_correct(scorecard=card, reason="数据更正", actor=users.assessor)
    services.scorecard_publish(scorecard=fix, actor=users.assessor)
    card.refresh_from_db()
    assert card.status == "superseded" and card.score == draft.score
