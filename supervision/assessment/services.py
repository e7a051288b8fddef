"""Everything that writes assessment rows: schemes, scorecards (compute, publish, correct), officials."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.errors import Conflict, NotFound, ServiceError
from supervision.workflow import transition_to
from supervision.zoning.models import AdministrativeDivision, ZoningPlan
from supervision.zoning.selectors import divisions_of_plan

from . import indicators
from .choices import SCORECARD_TRANSITIONS, IndicatorCode, ScorecardStatus, Subject
from .models import AssessmentScheme, Indicator, Official, Scorecard, ScorecardEvent, ScorecardIndicator
from .periods import Period, PeriodError, period_parse
from .permissions import require_role
from .scoring import Line, score_lines

# --- schemes ------------------------------------------------------------------------------

DEFAULT_SCHEME = [
    # (code, weight, params) — the shipped version 2 (data migration 0004 writes the same rows;
    # version 1, migration 0002, had six indicators and no suspected weight).
    (IndicatorCode.VERIFICATION_TIMELINESS, 15, {}),
    (IndicatorCode.LEAD_BACKLOG, 10, {}),
    (IndicatorCode.RECTIFICATION_TIMELINESS, 15, {}),
    (IndicatorCode.CLOSURE_RATE, 10, {}),
    (IndicatorCode.OVERDUE_BACKLOG, 10, {}),
    (IndicatorCode.REPEAT_OFFENDERS, 5, {}),
    (IndicatorCode.PRIORITY_UNIT_DAMAGE, 10, {"threshold_ha": 10, "suspected_weight": 0.5}),
    (IndicatorCode.RED_LINE_INTEGRITY, 10, {"threshold_ha": 5, "suspected_weight": 0.5}),
    (IndicatorCode.BOTTOM_LINE_ATTAINMENT, 15, {}),
]


def scheme_problems(*, weights: dict[str, Decimal], params: dict[str, dict] | None = None) -> list[str]:
    """Why a set of indicator weights is not a usable scheme (empty list: fine)."""
    problems = []
    if not weights:
        problems.append("A scheme needs at least one indicator.")
    unknown = sorted(set(weights) - set(IndicatorCode.values))
    if unknown:
        problems.append(f"Unknown indicator(s): {', '.join(unknown)}.")
    total = sum((Decimal(w) for w in weights.values()), Decimal(0))
    if weights and total != 100:
        problems.append(f"Indicator weights must sum to 100, not {total.normalize():f}.")
    for code, p in (params or {}).items():
        if "threshold_ha" in (p or {}):
            try:
                if float(p["threshold_ha"]) <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"{code}: threshold_ha must be a positive number of hectares.")
        if "suspected_weight" in (p or {}):
            try:
                if not 0 <= float(p["suspected_weight"]) <= 1:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"{code}: suspected_weight must be a number between 0 and 1.")
    return problems


def scheme_check(*, scheme: AssessmentScheme) -> None:
    rows = list(scheme.indicators.values_list("code", "weight", "params"))
    problems = scheme_problems(weights={c: w for c, w, _ in rows}, params={c: p for c, _, p in rows})
    if problems:
        raise ServiceError(
            _("Scheme version %(scheme_version)s cannot be used.") % {"scheme_version": scheme.version},
            problems=problems,
            code="bad_scheme",
        )


def scheme_resolve(*, version: int | None = None) -> AssessmentScheme:
    """The named version, or the newest; checked usable."""
    qs = AssessmentScheme.objects.all()
    scheme = qs.filter(version=version).first() if version is not None else qs.order_by("-version").first()
    if scheme is None:
        raise NotFound(
            _("No assessment scheme version %(version)s.") % {"version": version}
            if version is not None
            else _("No assessment scheme."),
            code="not_found",
        )
    scheme_check(scheme=scheme)
    return scheme


@transaction.atomic
def scheme_copy(*, scheme: AssessmentScheme, name: str | None = None) -> AssessmentScheme:
    """A new version with the same indicators: how a scheme in use is changed."""
    last = AssessmentScheme.objects.select_for_update().order_by("-version").first()
    new = AssessmentScheme.objects.create(
        version=(last.version if last else 0) + 1, name=name or scheme.name, notes=f"复制自第{scheme.version}版"
    )
    Indicator.objects.bulk_create(
        Indicator(scheme=new, code=i.code, weight=i.weight, position=i.position, params=i.params)
        for i in scheme.indicators.all()
    )
    return new


@transaction.atomic
def scheme_set_weights(
    *, scheme: AssessmentScheme, weights: dict[str, Decimal], params: dict[str, dict] | None = None
) -> AssessmentScheme:
    """Replace a scheme's indicators; refused once a published scorecard uses it."""
    scheme = AssessmentScheme.objects.select_for_update().get(pk=scheme.pk)
    try:
        scheme.ensure_mutable()
    except ValidationError as exc:
        raise Conflict(exc.messages[0], code="scheme_in_use") from None
    problems = scheme_problems(weights=weights, params=params)
    if problems:
        raise ServiceError(_("Scheme refused."), problems=problems, code="bad_scheme")
    scheme.indicators.all().delete()
    order = {c: i for i, c in enumerate(IndicatorCode.values)}
    Indicator.objects.bulk_create(
        Indicator(scheme=scheme, code=c, weight=Decimal(w), position=order[c], params=(params or {}).get(c, {}))
        for c, w in weights.items()
    )
    return scheme


# --- computing ------------------------------------------------------------------------------


@dataclass
class ComputeResult:
    plan: ZoningPlan
    period: Period
    scheme: AssessmentScheme
    computed: list[Scorecard] = field(default_factory=list)
    # Divisions whose card for the period is published and has no correction draft.
    skipped: list[Scorecard] = field(default_factory=list)


def period_resolve(code: str) -> Period:
    try:
        return period_parse(code)
    except PeriodError as exc:
        raise ServiceError(str(exc), code="bad_period") from None


def plan_resolve(code: str) -> ZoningPlan:
    plan = ZoningPlan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound(_("No zoning plan '%(code)s'.") % {"code": code}, code="not_found")
    return plan


def _window(period: Period, plan_id: int | None = None) -> indicators.Window:
    """The period's instants, "as of" now (a period under way counts only deadlines already passed)."""
    start, end = period.bounds(timezone.get_default_timezone())
    return indicators.Window(start, end, asof=timezone.now(), period_code=period.code, plan_id=plan_id)


def measures_compute(
    *, scheme: AssessmentScheme, division_ids: list[int], period: Period, plan_id: int | None = None
) -> dict[int, dict[str, indicators.Raw]]:
    """Every indicator of the scheme for every division: one aggregate query per indicator."""
    window = _window(period, plan_id)
    out: dict[int, dict[str, indicators.Raw]] = {d: {} for d in division_ids}
    for ind in scheme.indicators.all():
        for div, raw in indicators.indicator_aggregate(
            ind.code, division_ids=division_ids, window=window, params=ind.params
        ).items():
            out[div][ind.code] = raw
    return out


def _write_lines(card: Scorecard, scheme: AssessmentScheme, raws: dict[str, indicators.Raw]) -> Decimal | None:
    inds = list(scheme.indicators.all())
    scored, score = score_lines([Line(i.code, i.weight, raws[i.code].value) for i in inds])
    ScorecardIndicator.objects.filter(scorecard=card).delete()
    ScorecardIndicator.objects.bulk_create(
        ScorecardIndicator(
            scorecard=card,
            code=i.code,
            position=pos,
            subject=indicators.DEFINITIONS[i.code].subject,
            denominator_subject=indicators.DEFINITIONS[i.code].denominator_subject,
            params=i.params or {},
            numerator=raws[i.code].numerator,
            denominator=raws[i.code].denominator,
            applicable=s.value is not None,
            value=s.value,
            weight=i.weight,
            effective_weight=s.effective_weight,
            points=s.points,
            numerator_ids=raws[i.code].numerator_ids,
            denominator_ids=raws[i.code].denominator_ids,
        )
        for pos, (i, s) in enumerate(zip(inds, scored, strict=True))
    )
    return score


def scores_compute(
    *,
    plan: ZoningPlan,
    period: Period,
    scheme: AssessmentScheme | None = None,
    actor=None,
    division_ids: list[int] | None = None,
    check_role: bool = True,
) -> ComputeResult:
    """Compute (or recompute) the draft scorecards of every division of the plan for the period.

    Safe to run twice: a division's draft is updated in place (one draft per division and
    period, a unique constraint). A published card is never touched: it is skipped unless a
    correction draft exists, which is recomputed instead.
    """
    if check_role and actor is not None:
        require_role(actor, "scores.compute")
    scheme = scheme or scheme_resolve()
    scheme_check(scheme=scheme)
    divisions = list(divisions_of_plan(plan=plan).values_list("id", flat=True))
    if division_ids is not None:
        divisions = [d for d in divisions if d in set(division_ids)]
    if not divisions:
        raise ServiceError(
            _("Plan %(plan_code)s has no divisions (no units) to assess.") % {"plan_code": plan.code},
            code="no_divisions",
        )
    measures = measures_compute(scheme=scheme, division_ids=divisions, period=period, plan_id=plan.pk)
    result = ComputeResult(plan=plan, period=period, scheme=scheme)
    now = timezone.now()
    actor_obj = actor if getattr(actor, "pk", None) else None
    for div in divisions:  # 11 divisions, not cases: each iteration writes one card and its lines
        with transaction.atomic():
            cards = Scorecard.objects.select_for_update().filter(plan=plan, division_id=div, period_code=period.code)
            draft = cards.filter(status=ScorecardStatus.DRAFT).first()
            if draft is None and cards.exists():
                result.skipped.append(cast(Scorecard, cards.order_by("-version").first()))
                continue
            created = draft is None
            if draft is None:
                try:
                    with transaction.atomic():
                        draft = Scorecard.objects.create(
                            plan=plan,
                            division_id=div,
                            scheme=scheme,
                            period_kind=period.kind,
                            period_code=period.code,
                            period_start=period.start,
                            period_end=period.end,
                            computed_at=now,
                            computed_by=actor_obj,
                        )
                except IntegrityError:
                    raise Conflict(
                        _("Another computation of %(plan_code)s %(period_code)s is running; try again.")
                        % {"plan_code": plan.code, "period_code": period.code},
                        code="conflict",
                    ) from None
            draft.scheme = scheme
            draft.score = _write_lines(draft, scheme, measures[div])
            draft.computed_at, draft.computed_by = now, actor_obj
            draft.save(update_fields=["scheme", "score", "computed_at", "computed_by"])
            ScorecardEvent.objects.create(
                scorecard=draft,
                from_status=ScorecardStatus.DRAFT,
                to_status=ScorecardStatus.DRAFT,
                actor=actor_obj,
                at=now,
                comment="computed" if created else "recomputed",
                data={"score": str(draft.score), "scheme_version": scheme.version},
            )
            result.computed.append(draft)
    return result


def scorecard_publish(*, scorecard: Scorecard, actor) -> Scorecard:
    """Recompute the draft one last time, store the ids behind every number, and freeze it.

    A correction (version > 1) supersedes the published card it corrects in the same
    transaction. The scheme used becomes immutable.
    """
    require_role(actor, "scorecard.publish")
    actor_obj = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        card = Scorecard.objects.select_for_update().select_related("scheme").get(pk=scorecard.pk)
        if card.status != ScorecardStatus.DRAFT:
            raise Conflict(
                _("Scorecard %(card_id)s is %(card_status)s; only a draft can be published.")
                % {"card_id": card.pk, "card_status": card.status},
                code="not_draft",
            )
        scheme = card.scheme
        scheme_check(scheme=scheme)
        draft_score = card.score
        # The same aggregate query as every draft: the stored ids are the rows each number counted.
        period = period_resolve(card.period_code)
        raws = measures_compute(scheme=scheme, division_ids=[card.division_id], period=period, plan_id=card.plan_id)[
            card.division_id
        ]
        card.score = _write_lines(card, scheme, raws)
        card.save(update_fields=["score"])
        now = timezone.now()
        if card.corrects_id:
            old = Scorecard.objects.select_for_update().get(pk=card.corrects_id)
            transition_to(
                old,
                target=ScorecardStatus.SUPERSEDED,
                transitions=SCORECARD_TRANSITIONS,
                event_model=ScorecardEvent,
                event_fields={
                    "scorecard": old,
                    "actor": actor_obj,
                    "comment": f"更正为第{card.version}版：{card.correction_reason}",
                },
                label=f"Scorecard {old.pk}",
            )
        card = transition_to(
            card,
            target=ScorecardStatus.PUBLISHED,
            transitions=SCORECARD_TRANSITIONS,
            event_model=ScorecardEvent,
            event_fields={
                "scorecard": card,
                "actor": actor_obj,
                "comment": card.correction_reason,
                "data": {"score": str(card.score), "draft_score": str(draft_score), "scheme_version": scheme.version},
            },
            fields={"published_at": now, "published_by": actor_obj},
            label=f"Scorecard {card.pk}",
        )
        if scheme.locked_at is None:
            AssessmentScheme.objects.filter(pk=scheme.pk, locked_at__isnull=True).update(locked_at=now)
    return card


def scorecard_correct(*, scorecard: Scorecard, reason: str, actor) -> Scorecard:
    """Open a correction of a published card: a new draft version, with a reason, computed now."""
    require_role(actor, "scorecard.correct")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("A correction needs a reason."), code="reason_required")
    actor_obj = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        if card.status != ScorecardStatus.PUBLISHED:
            raise Conflict(
                _("Only the published scorecard can be corrected (this one is %(card_status)s).")
                % {"card_status": card.status},
                code="not_published",
            )
        siblings = Scorecard.objects.filter(
            plan_id=card.plan_id, division_id=card.division_id, period_code=card.period_code
        )
        if siblings.filter(status=ScorecardStatus.DRAFT).exists():
            raise Conflict(
                _("A draft (correction) for this division and period already exists; publish or recompute it."),
                code="draft_exists",
            )
        version = max(siblings.values_list("version", flat=True)) + 1
        now = timezone.now()
        new = Scorecard.objects.create(
            plan_id=card.plan_id,
            division_id=card.division_id,
            scheme=card.scheme,
            period_kind=card.period_kind,
            period_code=card.period_code,
            period_start=card.period_start,
            period_end=card.period_end,
            version=version,
            corrects=card,
            correction_reason=reason,
            computed_at=now,
            computed_by=actor_obj,
        )
        period = period_resolve(card.period_code)
        measures = measures_compute(
            scheme=card.scheme, division_ids=[card.division_id], period=period, plan_id=card.plan_id
        )
        new.score = _write_lines(new, card.scheme, measures[card.division_id])
        new.save(update_fields=["score"])
        ScorecardEvent.objects.create(
            scorecard=new,
            from_status="",
            to_status=ScorecardStatus.DRAFT,
            actor=actor_obj,
            at=now,
            comment=reason,
            data={"corrects": card.pk, "score": str(new.score)},
        )
    return new


# --- officials ---------------------------------------------------------------------------------


def official_ensure(
    *, division: AdministrativeDivision, name: str, role: str, term_start, term_end=None, title: str = ""
) -> Official:
    """Upsert an official on (division, role, name, term_start)."""
    if term_end is not None and term_end < term_start:
        raise ServiceError(
            _("%(name)s: the term ends (%(term_end)s) before it starts (%(term_start)s).")
            % {"name": name, "term_end": term_end, "term_start": term_start},
            code="bad_term",
        )
    official, __ = Official.objects.update_or_create(
        division=division, role=role, name=name, term_start=term_start, defaults={"term_end": term_end, "title": title}
    )
    return official


__all__ = [
    "ComputeResult",
    "DEFAULT_SCHEME",
    "Subject",
    "measures_compute",
    "official_ensure",
    "period_resolve",
    "plan_resolve",
    "scheme_check",
    "scheme_copy",
    "scheme_problems",
    "scheme_resolve",
    "scheme_set_weights",
    "scorecard_correct",
    "scorecard_publish",
    "scores_compute",
]
