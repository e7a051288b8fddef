"""Case workflow at scale: transition throughput and the overdue sweep over 1,000,000 cases.

    .venv/bin/python benchmarks/bench_cases.py [--quick] [--cases N] [--overdue-share F]

In a scratch PostGIS database (bench_cases) it makes 11 districts, one lead per case and
N cases (1,000,000; 100,000 with --quick) with INSERT … SELECT generate_series, in a
realistic mix of statuses (most accepted, a few percent overdue). Then it measures:

* transitions/s through the services (order rectification → submit → accept, each a
  compare-and-set UPDATE plus an event row, as the API does it);
* the overdue sweep (`cases_escalate_overdue`): EXPLAIN shows the partial index
  case_rect_due_open_idx, the sweep must finish in < 10 s and touch only overdue rows;
  a second run must escalate nothing.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.pop("CELERY_BROKER_URL", None)

from _django import scratch_database  # noqa: E402

STATUS_MIX = [
    # status, share, due offset in days from now (None: no deadline)
    ("accepted", 0.60, -200),
    ("opened", 0.08, None),
    ("rectification_submitted", 0.08, 10),
    ("rectification_ordered", 0.20, 20),  # on time
    ("returned", 0.02, 15),
]


def build(connection, n_cases: int, overdue_share: float) -> int:
    """Bulk-load divisions, a plan, leads and cases in SQL; returns the number of overdue cases."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

    plan = ZoningPlan.objects.create(code="bench", name="bench", region_adcode="220100")
    adcodes = [
        "220102",
        "220103",
        "220104",
        "220105",
        "220106",
        "220112",
        "220113",
        "220122",
        "220182",
        "220183",
        "220184",
    ]
    for i, adcode in enumerate(adcodes):
        division = AdministrativeDivision.objects.create(adcode=adcode, name=adcode, level="county")
        x = 125.0 + i * 0.1
        ControlUnit.objects.create(
            plan=plan,
            division=division,
            code=f"ZH{adcode}10001",
            name="u",
            unit_class="priority",
            geom=MultiPolygon(
                Polygon(((x, 43.8), (x + 0.05, 43.8), (x + 0.05, 43.85), (x, 43.85), (x, 43.8))), srid=4490
            ),
        )
    n_overdue = int(n_cases * overdue_share)
    with connection.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute("SELECT min(id), count(*) FROM zoning_administrativedivision")
        first_division, n_div = cur.fetchone()
        cur.execute("SELECT min(id) FROM zoning_controlunit")
        first_unit = cur.fetchone()[0]
        cur.execute(
            """
            INSERT INTO cases_lead (id, source, status, plan_id, unit_id, division_id, title, description, reason, geom,
                detections, detected_at, last_detected_at, evidence, layer_ref, created_at, updated_at,
                concluded_at, verification_day_kind, dismiss_code, dismiss_reason)
            SELECT g, 'remote_sensing', 'confirmed', %s, %s + (g %% %s), %s + (g %% %s), 'bench lead ' || g, '', 'bench',
                ST_SetSRID(ST_MakePoint(125.0 + (g %% 11) * 0.1 + 0.01, 43.81), 4490), 1,
                now() - interval '300 days', now() - interval '300 days', '{}'::jsonb, '', now(), now(),
                now() - interval '290 days', '', '', ''
            FROM generate_series(1, %s) g
            """,
            [plan.pk, first_unit, n_div, first_division, n_div, n_cases],
        )
        t_leads = time.perf_counter() - t0
        # Status by position: the first n_overdue are rectifying and past their deadline (spread over 0–30 days).
        cases_sql = """
            INSERT INTO cases_case (id, lead_id, number, title, status, plan_id, unit_id, division_id, opened_at,
                rectification_requirements, rectification_due_at, rectification_ordered_at, rectification_day_kind,
                submitted_at, accepted_at, escalation_level, penalty_legal_basis, police_agency, public_summary,
                created_at, updated_at)
            SELECT g, g, 'AJB' || lpad(g::text, 10, '0'), 'bench case', s.status, %s, %s + (g %% %s), %s + (g %% %s),
                now() - interval '280 days', 'x',
                CASE WHEN s.due IS NULL THEN NULL ELSE now() + make_interval(days => s.due) - make_interval(secs => g %% 86400) END,
                CASE WHEN s.due IS NULL THEN NULL ELSE now() - interval '270 days' END,
                CASE WHEN s.due IS NULL THEN '' ELSE 'calendar' END,
                NULL, CASE WHEN s.status = 'accepted' THEN now() - interval '100 days' END,
                CASE WHEN s.status = 'accepted' THEN 1 ELSE 0 END, '', '', '', now(), now()
            FROM generate_series(%s, %s) g,
                 LATERAL (SELECT %s::text AS status, %s::int AS due) s
        """
        t0 = time.perf_counter()
        # Overdue block: rectification_ordered, due 0–30 days ago.
        cur.execute(
            cases_sql.replace("make_interval(days => s.due)", "make_interval(days => -(g %% 30) - 1)"),
            [plan.pk, first_unit, n_div, first_division, n_div, 1, n_overdue, "rectification_ordered", -1],
        )
        start = n_overdue + 1
        for status, share, due in STATUS_MIX:
            count = int((n_cases - n_overdue) * share)
            end = min(n_cases, start + count - 1)
            if status == STATUS_MIX[-1][0]:
                end = n_cases
            cur.execute(cases_sql, [plan.pk, first_unit, n_div, first_division, n_div, start, end, status, due])
            start = end + 1
        t_cases = time.perf_counter() - t0
        cur.execute("SELECT setval(pg_get_serial_sequence('cases_lead', 'id'), %s)", [n_cases])
        cur.execute("SELECT setval(pg_get_serial_sequence('cases_case', 'id'), %s)", [n_cases])
        cur.execute("ANALYZE cases_lead; ANALYZE cases_case;")
        cur.execute("SELECT status, count(*) FROM cases_case GROUP BY status ORDER BY status")
        mix = cur.fetchall()
    print(
        f"loaded {n_cases:,} leads in {t_leads:.1f} s and {n_cases:,} cases in {t_cases:.1f} s: "
        + ", ".join(f"{s} {c:,}" for s, c in mix)
    )
    return n_overdue


def bench_transitions(n: int) -> float:
    import io

    from django.contrib.auth import get_user_model

    from supervision.cases.models import Case
    from supervision.cases.services import cases as svc
    from supervision.cases.services.attachments import CheckedFile  # noqa: F401
    from supervision.cases.services.users import user_upsert
    from supervision.zoning.models import AdministrativeDivision  # noqa: F401

    admin, _ = user_upsert(username="bench_admin", role="bureau_admin", password="x")
    admin = get_user_model().objects.get(pk=admin.pk)
    from django.contrib.gis.geos import Point

    from supervision.cases.models import EnforcementTarget
    from supervision.cases.validators import credit_code_check_char

    first17 = "91220102MA0000001"
    case0 = Case.objects.filter(status="opened").order_by("id").first()
    target = EnforcementTarget.objects.create(
        name="bench",
        credit_code=first17 + credit_code_check_char(first17),
        location=Point(125.01, 43.81, srid=4490),
        division_id=case0.division_id,
    )
    cases = list(Case.objects.filter(status="opened").order_by("id")[:n])
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256
    t0 = time.perf_counter()
    done = 0
    for case in cases:
        case = svc.case_order_rectification(
            case=case, actor=admin, requirements="整改", days=10, day_kind="working", target_id=target.pk
        )
        f = io.BytesIO(png)
        f.name = "p.png"
        case = svc.case_submit_rectification(case=case, actor=admin, files=[f])
        svc.case_accept(case=case, actor=admin)
        done += 3
    elapsed = time.perf_counter() - t0
    rate = done / elapsed
    print(
        f"transitions: {done:,} in {elapsed:.1f} s = {rate:,.0f} transitions/s "
        f"(order → submit with a PNG → accept, through the services, one at a time)"
    )
    return rate


def bench_sweep(connection, n_overdue: int) -> tuple[float, int]:
    from django.utils import timezone

    from supervision.cases.choices import CASE_RECTIFYING_STATUSES
    from supervision.cases.models import Case, CaseEvent
    from supervision.cases.services.cases import cases_escalate_overdue
    from supervision.cases.services.users import user_upsert

    user_upsert(username="bench_admin2", role="bureau_admin", email="admin@bench.invalid")
    now = timezone.now()
    plan = (
        Case.objects.filter(status__in=CASE_RECTIFYING_STATUSES, rectification_due_at__lt=now, escalation_level__lt=1)
        .order_by("rectification_due_at", "id")
        .values_list("id")[:5000]
        .explain()
    )
    print("EXPLAIN of one sweep batch:\n  " + plan.replace("\n", "\n  "))
    uses_index = "case_rect_due_open_idx" in plan
    events_before = CaseEvent.objects.filter(kind="escalation").count()
    # Emails are a separate task on the worker (queued on commit); time them apart from the sweep.
    import supervision.cases.services.notifications as notifications

    notifications._queue_email = lambda: None
    t0 = time.perf_counter()
    result = cases_escalate_overdue(now=now)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    emails = 0
    while True:
        sent = notifications.notifications_send_email(limit=5000)
        if not sent and not notifications.Notification.objects.filter(emailed_at__isnull=True).exists():
            break
        emails += sent
    print(f"emails: {emails:,} sent (locmem backend) in {time.perf_counter() - t0:.2f} s, as the worker task would")
    t0 = time.perf_counter()
    again = cases_escalate_overdue(now=now)
    second = time.perf_counter() - t0
    events = CaseEvent.objects.filter(kind="escalation").count() - events_before
    print(
        f"sweep: escalated {result.escalated:,} of {n_overdue:,} overdue cases "
        f"(by level {dict(sorted(result.by_level.items()))}) in {first:.2f} s, "
        f"{result.notifications:,} notifications offered; index used: {uses_index}"
    )
    print(f"sweep again: escalated {again.escalated} in {second:.2f} s; escalation events {events:,} (= escalated)")
    assert again.escalated == 0 and events == result.escalated == n_overdue
    return first, result.escalated


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 cases")
    parser.add_argument("--cases", type=int)
    parser.add_argument("--overdue-share", type=float, default=0.02)
    parser.add_argument("--transitions", type=int)
    args = parser.parse_args()
    n_cases = args.cases or (100_000 if args.quick else 1_000_000)
    n_transitions = args.transitions or (100 if args.quick else 500)
    with scratch_database("cases") as connection:
        n_overdue = build(connection, n_cases, args.overdue_share)
        rate = bench_transitions(n_transitions)
        first, escalated = bench_sweep(connection, n_overdue)
        print(
            f"RESULT cases={n_cases:,} transitions_per_s={rate:,.0f} sweep_s={first:.2f} escalated={escalated:,} "
            f"goal_sweep_under_10s={'yes' if first < 10 else 'NO'}"
        )


if __name__ == "__main__":
    main()
