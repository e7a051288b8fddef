"""Assessment at city scale: a quarter's scorecards for 11 districts over 1,000,000 cases and 5,000,000 events.

    .venv/bin/python benchmarks/bench_assessment.py [--quick] [--cases N] [--period 2025-Q3]

In a scratch PostGIS database (bench_assessment) it makes a plan with 11 districts and
157 units, then with INSERT … SELECT generate_series: 1,200,000 leads (1,000,000 confirmed,
each with a case; the rest dismissed or still verifying), 1,000,000 cases spread over
2023–2025 in a realistic mix of statuses, and 5 events per case (5,000,000; --quick: a
tenth of everything). Then it times `scores_compute` for the period — six aggregate
queries over all divisions plus the writes — and, for reference, publishing one
scorecard (which stores the ids behind every number). Goal: compute < 30 s.
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

ADCODES = ["220102", "220103", "220104", "220105", "220106", "220112", "220113", "220122", "220182", "220183", "220184"]
N_UNITS = 157
# Deterministic pseudo-random in [0, 1) from an integer and a salt (PostgreSQL's own hash; reruns give the same data).
RND = "((hashint8(({x})::bigint * 1000 + {salt})::bigint + 2147483648) / 4294967296.0)"


def rnd(x: str, salt: int) -> str:
    return RND.format(x=x, salt=salt)


def filler(cur, table: str, given: list[str]) -> tuple[list[str], list[str]]:
    """Columns the INSERT does not name but the table requires (NOT NULL, no default), with a neutral value.

    Keeps the benchmark working while the cases app grows columns.
    """
    cur.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'""",
        [table],
    )
    cols, vals = [], []
    for name, dtype in cur.fetchall():
        if name in given:
            continue
        cols.append(name)
        if dtype in ("text", "character varying"):
            vals.append("''")
        elif dtype in ("jsonb", "json"):
            vals.append("'{}'::jsonb")
        elif dtype == "boolean":
            vals.append("false")
        elif dtype.startswith("timestamp"):
            vals.append("now()")
        elif dtype == "date":
            vals.append("current_date")
        else:
            vals.append("0")
    return cols, vals


def build(connection, n_cases: int) -> None:
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

    plan = ZoningPlan.objects.create(code="bench", name="bench", region_adcode="220100")
    divisions = [AdministrativeDivision.objects.create(adcode=a, name=a, level="county") for a in ADCODES]
    for i in range(N_UNITS):
        d = i % len(divisions)
        x, y = 125.0 + d * 0.1, 43.8 + (i // len(divisions)) * 0.01
        ControlUnit.objects.create(
            plan=plan,
            division=divisions[d],
            code=f"ZH{ADCODES[d]}{1 + i % 3}{i + 1:04d}",
            name=f"u{i}",
            unit_class=("priority", "key", "general")[i % 3],
            area_m2=1e6,
            geom=MultiPolygon(
                Polygon(((x, y), (x + 0.005, y), (x + 0.005, y + 0.005), (x, y + 0.005), (x, y))), srid=4490
            ),
        )
    n_extra = n_cases // 5
    n_leads = n_cases + n_extra
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bu AS SELECT row_number() OVER (ORDER BY id) - 1 AS idx, id AS unit_id, division_id "
            "FROM zoning_controlunit WHERE plan_id = %s",
            [plan.pk],
        )
        # --- leads: 1..n_cases confirmed (each gets a case), then dismissed / verifying ones ---
        t0 = time.perf_counter()
        given = [
            "id",
            "source",
            "status",
            "plan_id",
            "unit_id",
            "division_id",
            "title",
            "geom",
            "detections",
            "detected_at",
            "last_detected_at",
            "dispatched_at",
            "verification_due_at",
            "concluded_at",
            "area_m2",
            "dismiss_code",
            "dismiss_reason",
        ]
        extra_cols, extra_vals = filler(cur, "cases_lead", given)
        # dispatched uniformly over 2023-01-01 … 2025-12-31 (1,095 days), Shanghai; due 5 days later at 23:59:59;
        # concluded 0–8 days after dispatch (about 2/3 on time); area 0–3,000 m².
        cur.execute(
            f"""
            INSERT INTO cases_lead ({", ".join(given + extra_cols)})
            SELECT g, 'remote_sensing',
                CASE WHEN g <= %(n)s THEN 'confirmed' WHEN g %% 4 = 0 THEN 'verifying' ELSE 'dismissed' END,
                %(plan)s, bu.unit_id, bu.division_id, 'bench lead', ST_SetSRID(ST_MakePoint(125.3, 43.8), 4490), 1,
                d.at, d.at, d.at, date_trunc('day', d.at + interval '5 days') + interval '23:59:59',
                CASE WHEN g > %(n)s AND g %% 4 = 0 THEN NULL ELSE d.at + make_interval(secs => {rnd("g", 3)} * 8 * 86400) END,
                {rnd("g", 4)} * 3000,
                CASE WHEN g > %(n)s AND g %% 4 <> 0 THEN 'no_change' ELSE '' END,
                CASE WHEN g > %(n)s AND g %% 4 <> 0 THEN '现场无变化' ELSE '' END
                {"".join(", " + v for v in extra_vals)}
            FROM generate_series(1, %(total)s) g
            JOIN bu ON bu.idx = g %% {N_UNITS},
            LATERAL (SELECT (timestamptz '2023-01-01 00:00+08' + make_interval(secs => {rnd("g", 1)} * 1095 * 86400)) AS at) d
            """,
            {"n": n_cases, "plan": plan.pk, "total": n_leads},
        )
        t_leads = time.perf_counter() - t0
        # --- cases: one per confirmed lead, opened when the lead was confirmed ---
        t0 = time.perf_counter()
        given = [
            "id",
            "lead_id",
            "number",
            "title",
            "status",
            "plan_id",
            "unit_id",
            "division_id",
            "opened_at",
            "rectification_due_at",
            "rectification_ordered_at",
            "submitted_at",
            "accepted_at",
            "escalation_level",
        ]
        extra_cols, extra_vals = filler(cur, "cases_case", given)
        # Status mix: 70 % accepted (10–45 days after opening: about 57 % of them by the 30-day deadline),
        # 10 % submitted, 12 % ordered, 3 % returned, 5 % just opened.
        cur.execute(
            f"""
            INSERT INTO cases_case ({", ".join(given + extra_cols)})
            SELECT l.id, l.id, 'AJ' || lpad(l.id::text, 10, '0'), 'bench case', s.status, l.plan_id, l.unit_id,
                l.division_id, l.concluded_at,
                CASE WHEN s.status = 'opened' THEN NULL
                     ELSE date_trunc('day', l.concluded_at + interval '30 days') + interval '23:59:59' END,
                CASE WHEN s.status = 'opened' THEN NULL ELSE l.concluded_at + interval '1 day' END,
                CASE WHEN s.status IN ('accepted', 'rectification_submitted') THEN l.concluded_at + interval '9 days' END,
                CASE WHEN s.status = 'accepted' THEN l.concluded_at + make_interval(secs => (10 + {rnd("l.id", 6)} * 35) * 86400) END,
                0 {"".join(", " + v for v in extra_vals)}
            FROM cases_lead l,
            LATERAL (SELECT CASE WHEN r < 0.70 THEN 'accepted' WHEN r < 0.80 THEN 'rectification_submitted'
                                 WHEN r < 0.92 THEN 'rectification_ordered' WHEN r < 0.95 THEN 'returned'
                                 ELSE 'opened' END AS status
                     FROM (SELECT {rnd("l.id", 5)} AS r) x) s
            WHERE l.id <= %(n)s
            """,
            {"n": n_cases},
        )
        t_cases = time.perf_counter() - t0
        # --- events: 5 per case, the path that ends in the case's status (side events keep the status) ---
        t0 = time.perf_counter()
        paths = {
            "accepted": [
                "opened",
                "rectification_ordered",
                "rectification_submitted",
                "rectification_submitted",
                "accepted",
            ],
            "rectification_submitted": [
                "opened",
                "rectification_ordered",
                "rectification_ordered",
                "rectification_ordered",
                "rectification_submitted",
            ],
            "rectification_ordered": [
                "opened",
                "rectification_ordered",
                "rectification_ordered",
                "rectification_ordered",
                "rectification_ordered",
            ],
            "returned": ["opened", "rectification_ordered", "rectification_submitted", "returned", "returned"],
            "opened": ["opened"] * 5,
        }
        to_case = " ".join(
            f"WHEN '{st}' THEN (ARRAY[{', '.join(repr(p) for p in path)}])[k + 1]" for st, path in paths.items()
        )
        from_case = " ".join(
            f"WHEN '{st}' THEN (ARRAY['', {', '.join(repr(p) for p in path[:-1])}])[k + 1]"
            for st, path in paths.items()
        )
        given = ["case_id", "kind", "from_status", "to_status", "at", "comment", "data"]
        extra_cols, extra_vals = filler(cur, "cases_caseevent", given)
        cur.execute(
            f"""
            INSERT INTO cases_caseevent ({", ".join(given + extra_cols)})
            SELECT c.id, CASE WHEN e.f = e.t THEN 'attachment' ELSE 'transition' END, e.f, e.t,
                CASE WHEN k = 4 AND c.status = 'accepted' THEN c.accepted_at
                     ELSE c.opened_at + make_interval(days => (ARRAY[0, 1, 5, 8, 9])[k + 1]) END,
                '', '{{}}'::jsonb {"".join(", " + v for v in extra_vals)}
            FROM cases_case c CROSS JOIN generate_series(0, 4) k,
            LATERAL (SELECT CASE c.status {from_case} END AS f, CASE c.status {to_case} END AS t) e
            """
        )
        t_events = time.perf_counter() - t0
        for table in ("cases_lead", "cases_case"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        t0 = time.perf_counter()
        cur.execute("ANALYZE cases_lead; ANALYZE cases_case; ANALYZE cases_caseevent;")
        t_analyze = time.perf_counter() - t0
        cur.execute("SELECT count(*) FROM cases_caseevent")
        n_events = cur.fetchone()[0]
        cur.execute("SELECT status, count(*) FROM cases_case GROUP BY status ORDER BY status")
        mix = ", ".join(f"{s} {c:,}" for s, c in cur.fetchall())
    print(
        f"loaded {n_leads:,} leads in {t_leads:.1f} s, {n_cases:,} cases in {t_cases:.1f} s ({mix}), "
        f"{n_events:,} case events in {t_events:.1f} s; ANALYZE {t_analyze:.1f} s"
    )


def bench(period_code: str) -> float:
    from supervision.assessment import indicators, services
    from supervision.assessment.periods import period_parse
    from supervision.zoning.models import ZoningPlan

    plan = ZoningPlan.objects.get(code="bench")
    period = period_parse(period_code)
    scheme = services.scheme_resolve()
    division_ids = sorted(set(plan.units.values_list("division_id", flat=True)))
    window = services._window(period)
    print(f"per indicator, {len(division_ids)} divisions, {period.code}:")
    for ind in scheme.indicators.all():
        t0 = time.perf_counter()
        raws = indicators.indicator_aggregate(ind.code, division_ids=division_ids, window=window, params=ind.params)
        dt = time.perf_counter() - t0
        sample = raws[division_ids[0]]
        print(f"  {ind.code:26s} {dt:6.2f} s   e.g. {sample.numerator}/{sample.denominator} = {sample.value}")
    t0 = time.perf_counter()
    result = services.scores_compute(plan=plan, period=period, scheme=scheme, check_role=False)
    compute_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = services.scores_compute(plan=plan, period=period, scheme=scheme, check_role=False)
    again_s = time.perf_counter() - t0
    scores = sorted(c.score for c in result.computed)
    print(
        f"scores_compute {period.code}: {len(result.computed)} scorecards in {compute_s:.2f} s "
        f"(again, updating the drafts: {again_s:.2f} s); scores {scores[0]} … {scores[-1]}"
    )
    assert [c.pk for c in again.computed] == [c.pk for c in result.computed]

    class System:
        pk = None
        is_authenticated = is_active = is_superuser = True
        _case_roles = frozenset({"assessor", "bureau_admin"})

    card = result.computed[0]
    t0 = time.perf_counter()
    card = services.scorecard_publish(scorecard=card, actor=System())
    publish_s = time.perf_counter() - t0
    n_ids = sum(len(ln.numerator_ids or []) + len(ln.denominator_ids or []) for ln in card.lines.all())
    print(f"scorecard_publish (one division, recompute + freeze {n_ids:,} ids): {publish_s:.2f} s; score {card.score}")
    return compute_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 cases, 500,000 events")
    parser.add_argument("--cases", type=int)
    parser.add_argument("--period", default="2025-Q3")
    args = parser.parse_args()
    n_cases = args.cases or (100_000 if args.quick else 1_000_000)
    t_all = time.perf_counter()
    with scratch_database("assessment") as connection:
        build(connection, n_cases)
        compute_s = bench(args.period)
        goal = compute_s < 30
        print(
            f"RESULT cases={n_cases:,} events={5 * n_cases:,} compute_s={compute_s:.2f} goal_30s={'met' if goal else 'MISSED'} "
            f"total_s={time.perf_counter() - t_all:.0f}"
        )
    sys.exit(0 if goal else 1)


if __name__ == "__main__":
    main()
