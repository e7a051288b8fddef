"""Read queries of the assessment app: scorecards, ranking, officials' pro-rata scores, drill-down."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from supervision.cases.permissions import is_city_wide, scoped_get, user_division_id
from supervision.cases.selectors_assessment import cases_by_ids, leads_by_ids
from supervision.errors import NotFound, ServiceError

from .choices import DrillSide, ScorecardStatus, Subject
from .models import AssessmentScheme, BottomLineStatus, Official, Scorecard, ScorecardIndicator
from .periods import period_parse
from .permissions import can_manage, ensure_division_visible, scorecards_scope
from .scoring import competition_ranks


def schemes_list() -> QuerySet[AssessmentScheme]:
    return AssessmentScheme.objects.prefetch_related("indicators").order_by("-version")


def scorecards_list(
    *,
    user,
    plan_code: str | None = None,
    period_code: str | None = None,
    division: str | None = None,
    status: str | None = None,
) -> QuerySet[Scorecard]:
    qs = Scorecard.objects.select_related("plan", "division", "scheme").prefetch_related(
        Prefetch("lines", queryset=ScorecardIndicator.objects.order_by("position"))
    )
    if plan_code:
        qs = qs.filter(plan__code=plan_code)
    if period_code:
        qs = qs.filter(period_code=period_code)
    if division:
        qs = qs.filter(division__adcode=division)
    if status:
        qs = qs.filter(status=status)
    return scorecards_scope(qs, user).order_by("plan__code", "period_start", "division__adcode", "-version")


def scorecard_get(*, user, pk: int) -> Scorecard:
    return scoped_get(scorecards_list(user=user), pk, label=_("Scorecard"))


def current_cards(*, plan_code: str, period_code: str, status: str = ScorecardStatus.PUBLISHED) -> QuerySet[Scorecard]:
    """One card per division: the published one (status=published) or the draft (status=draft)."""
    return (
        Scorecard.objects.filter(plan__code=plan_code, period_code=period_code, status=status)
        .select_related("division", "plan", "scheme")
        .prefetch_related(Prefetch("lines", queryset=ScorecardIndicator.objects.order_by("position")))
        .order_by("division__adcode")
    )


@dataclass(frozen=True)
class RankRow:
    rank: int | None
    scorecard: Scorecard


def ranking(*, plan_code: str, period_code: str, status: str = ScorecardStatus.PUBLISHED) -> list[RankRow]:
    """Divisions by score, best first; ties share a rank (1, 2, 2, 4)."""
    cards = list(current_cards(plan_code=plan_code, period_code=period_code, status=status))
    ranks = competition_ranks([c.score for c in cards])
    rows = [RankRow(r, c) for r, c in zip(ranks, cards, strict=True)]
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.scorecard.division.adcode))


@dataclass(frozen=True)
class OfficialShare:
    official: Official
    scorecard: Scorecard
    overlap_days: int
    period_days: int
    share: Decimal  # overlap_days / period_days, 4 decimals
    attributed_score: Decimal  # scorecard.score × share, 2 decimals


def officials_scores(
    *, plan_code: str, period_code: str, status: str = ScorecardStatus.PUBLISHED
) -> list[OfficialShare]:
    """Each official whose term overlaps the period gets the division's card pro rata by days held.

    An official who moved between divisions during the period has one row per division;
    the rows' attributed scores add up to the official's score for the period.
    """
    period = period_parse(period_code)
    cards = {c.division_id: c for c in current_cards(plan_code=plan_code, period_code=period_code, status=status)}
    officials = (
        Official.objects.filter(division_id__in=cards, term_start__lte=period.end)
        .exclude(term_end__lt=period.start)
        .select_related("division")
        .order_by("division__adcode", "role", "term_start")
    )
    out = []
    for o in officials:  # officials, a few per division
        days = period.overlap_days(o.term_start, o.term_end)
        share = Decimal(days) / Decimal(period.days)
        card = cards[o.division_id]
        attributed = (card.score or Decimal(0)) * share
        out.append(
            OfficialShare(
                o,
                card,
                days,
                period.days,
                share.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
                attributed.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            )
        )
    return out


def drilldown(*, user, scorecard: Scorecard, code: str, side: str) -> tuple[str, QuerySet | None, bool]:
    """(subject, rows, frozen): the leads/cases/bottom-line statuses behind one side of one indicator of a card.

    Every card, draft or published, lists the ids stored with its line by the same
    aggregate query that computed the numbers, so a list always equals its cell; a draft
    changes only when it is recomputed (its numbers with it).
    """
    ensure_division_visible(user, scorecard.division_id)
    if side not in DrillSide.values:
        raise ServiceError(
            _("Side must be numerator or denominator, not '%(side)s'.") % {"side": side}, code="bad_side"
        )
    line = scorecard.lines.filter(code=code).first()
    if line is None:
        raise NotFound(_("Indicator '%(code)s' is not on this scorecard.") % {"code": code}, code="not_found")
    subject = line.subject if side == DrillSide.NUMERATOR else line.denominator_subject
    if subject == Subject.NONE:
        return subject, None, scorecard.is_frozen
    ids = (line.numerator_ids if side == DrillSide.NUMERATOR else line.denominator_ids) or []
    if subject == Subject.LEAD:
        rows = leads_by_ids(ids)
    elif subject == Subject.CASE:
        rows = cases_by_ids(ids)  # type: ignore[assignment]
    else:
        rows = BottomLineStatus.objects.filter(pk__in=ids).select_related("target", "target__division").order_by("id")  # type: ignore[assignment]
    return subject, rows, scorecard.is_frozen


def bottom_line_statuses(
    *,
    user,
    plan_code: str,
    year: int | None = None,
    division: str | None = None,
    period_code: str | None = None,
) -> QuerySet[BottomLineStatus]:
    """Tracked statuses of a plan's targets (a year's and its quarters'), scoped like scorecards.

    Managers and city-wide readers see every division; a division's officer sees their own.
    """
    qs = BottomLineStatus.objects.filter(target__plan__code=plan_code).select_related(
        "target", "target__division", "target__unit"
    )
    if year is not None:
        qs = qs.filter(period_start__year=year)
    if period_code:
        qs = qs.filter(period_code=period_code)
    if division:
        qs = qs.filter(target__division__adcode=division)
    if user is not None and not can_manage(user) and not is_city_wide(user):
        qs = qs.filter(target__division_id=user_division_id(user))
    return qs.order_by(
        "target__division__adcode", "target__scope_code", "target__indicator", "period_start", "-period_kind"
    )


def bottom_lines_latest(
    *, plan_code: str, division_id: int | None = None, unit_code: str | None = None
) -> list[BottomLineStatus]:
    """For display (unit card, district page, map): each target's latest year status, newest year first.

    A unit shows its own targets and its district's.
    """
    qs = BottomLineStatus.objects.filter(target__plan__code=plan_code, period_kind="year").select_related(
        "target", "target__division", "target__unit"
    )
    if unit_code:
        qs = qs.filter(Q(target__unit__code=unit_code) | Q(target__unit__isnull=True, target__division_id=division_id))
    elif division_id:
        qs = qs.filter(target__division_id=division_id)
    seen, out = set(), []
    for s in qs.order_by("-period_start", "target__scope_code", "target__indicator"):
        t = s.target
        key = (t.scope_code, t.indicator, t.station_code)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
