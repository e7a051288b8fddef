"""The data migration that makes water-body change raise leads in priority units, both ways."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from supervision.remote_sensing.models import ScanRuleSet
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

water = importlib.import_module("supervision.remote_sensing.migrations.0003_water_change_priority_data")


def test_water_change_is_added_to_existing_priority_rules_and_removed_by_the_reverse():
    old = ScanRuleSet.objects.create(
        plan=PlanFactory(code="old-rules"), classes_by_unit_class={"priority": [1, 2, 4], "key": [2, 4], "general": []}
    )
    chosen = ScanRuleSet.objects.create(
        plan=PlanFactory(code="own-rules"), classes_by_unit_class={"priority": [3, 1], "key": [2], "general": []}
    )
    water.forwards(apps, None)
    water.forwards(apps, None)  # twice: no duplicate class
    old.refresh_from_db()
    chosen.refresh_from_db()
    assert old.classes_by_unit_class == {"priority": [1, 2, 3, 4], "key": [2, 4], "general": []}
    assert chosen.classes_by_unit_class["priority"] == [3, 1]  # already had it: untouched
    water.backwards(apps, None)
    old.refresh_from_db()
    assert old.classes_by_unit_class == {"priority": [1, 2, 4], "key": [2, 4], "general": []}


def before_source_data(graph) -> list[tuple[str, str]]:
    """The cases migrations just before the source data migration, on every branch of the merged graph.

    Other branches' migrations (evidence status, assignee, triggers ...) sit beside 0005_lead_source_ambient;
    they stay applied, so the old Lead is built in a state that has their columns too.
    """
    later = set(graph.backwards_plan(("cases", "0006_lead_source_ambient_data")))  # it and all that follow
    return sorted(
        node
        for node in graph.nodes
        if node[0] == "cases"
        and node not in later
        and all(child in later for child in graph.node_map[node].children if child[0] == "cases")
    )


def test_monitoring_leads_become_ambient_and_back():
    """cases 0005-0007 on PostgreSQL's transactional DDL: the test's transaction undoes it all."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from tests.factories import DivisionFactory

    plan, division = PlanFactory(code="src-mig"), DivisionFactory()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    before = before_source_data(executor.loader.graph)
    assert ("cases", "0005_lead_source_ambient") in before
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    Lead = old_apps.get_model("cases", "Lead")
    lead = Lead.objects.create(
        source="monitoring",
        plan_id=plan.pk,
        division_id=division.pk,
        title="old ambient lead",
        geom="SRID=4490;POINT(125.3 43.8)",
        detected_at="2024-06-30T23:59:00+08:00",
        last_detected_at="2024-06-30T23:59:00+08:00",
    )
    with connection.cursor() as cursor:  # no pending FK checks before ALTER TABLE
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from supervision.cases.models import Lead as CurrentLead

    assert CurrentLead.objects.get(pk=lead.pk).source == "ambient"
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert Lead.objects.get(pk=lead.pk).source == "monitoring"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
