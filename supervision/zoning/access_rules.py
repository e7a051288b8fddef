"""The rules of the access list (生态环境准入清单), on plain values: no ORM, no queries.

A clause applies to a project when its industry codes are empty or one of them is a
prefix of the project's code (``C26`` covers ``C2614``; ``C`` covers all manufacturing),
and its applies-to is ``all`` or the project type. The verdict is ``prohibited`` if any
applying clause prohibits, else ``restricted`` if any restricts, else ``allowed``.

A lower layer may be stricter than a higher one, never looser: prohibit > restrict > allow,
per dimension, industry and project type, so a lower layer may not ``allow`` or ``restrict``
what a higher layer covering the same place ``prohibit``s, nor ``allow`` what it ``restrict``s
(an ``allow`` clashes on any shared industry; a ``restrict`` only when all its industries are
prohibited above, since restricting a wider group adds to the prohibition).
Which places two scopes share is a spatial question; the caller answers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .choices import (
    ACCESS_LEVEL_RANK,
    AccessAction,
    AccessLevel,
    AppliesTo,
    Dimension,
    Verdict,
)

DIMENSION_ORDER = {value: i for i, value in enumerate(Dimension.values)}


@dataclass(frozen=True)
class Clause:
    level: str
    scope_code: str
    dimension: str
    number: str
    text: str
    action: str
    industry_codes: tuple[str, ...] = ()
    applies_to: str = AppliesTo.ALL
    position: int = 0

    def as_dict(self) -> dict:
        """The shape the API, the command and the stored result use."""
        return {
            "level": self.level,
            "scope_code": self.scope_code,
            "dimension": self.dimension,
            "number": self.number,
            "text": self.text,
            "action": self.action,
        }

    def label(self) -> str:
        """``clause 3.1 (区县 220102, 禁止 C26 新建): 「…」`` for messages that quote a clause."""
        codes = ";".join(self.industry_codes) or "全部行业"
        return (
            f"clause {self.number} ({AccessLevel(self.level).label} {self.scope_code}, "
            f"{AccessAction(self.action).label} {codes}, {AppliesTo(self.applies_to).label}): 「{self.text}」"
        )


def industry_applies(codes: Iterable[str], project_code: str) -> bool:
    """Empty codes cover every industry; otherwise a code must be a prefix of the (normalised) project code."""
    codes = tuple(codes)
    return not codes or any(project_code.startswith(code) for code in codes)


def applies_to_fits(applies_to: str, project_type: str) -> bool:
    return applies_to == AppliesTo.ALL or applies_to == project_type


def clause_applies(clause: Clause, *, industry_code: str, project_type: str) -> bool:
    return applies_to_fits(clause.applies_to, project_type) and industry_applies(clause.industry_codes, industry_code)


def verdict_decide(clauses: Iterable[Clause]) -> tuple[str, list[Clause]]:
    """The verdict of the applying clauses and the clauses that set it.

    prohibited: every prohibiting clause decides; restricted: every restricting clause;
    allowed: the explicit ``allow`` clauses, if any (none when nothing is said).
    """
    clauses = list(clauses)
    for action, verdict in (
        (AccessAction.PROHIBIT, Verdict.PROHIBITED),
        (AccessAction.RESTRICT, Verdict.RESTRICTED),
    ):
        deciding = [c for c in clauses if c.action == action]
        if deciding:
            return verdict, deciding
    return Verdict.ALLOWED, [c for c in clauses if c.action == AccessAction.ALLOW]


def clauses_sorted(clauses: Iterable[Clause]) -> list[Clause]:
    """Grouped as the UI shows them: level (plan → unit), then dimension, then file order."""
    return sorted(
        clauses,
        key=lambda c: (
            ACCESS_LEVEL_RANK[c.level],
            c.scope_code,
            DIMENSION_ORDER[c.dimension],
            c.position,
            c.number,
        ),
    )


def industries_overlap(a: Iterable[str], b: Iterable[str]) -> bool:
    """Some industry falls under both lists (empty = every industry)."""
    a, b = tuple(a), tuple(b)
    if not a or not b:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in a for y in b)


def applies_overlap(a: str, b: str) -> bool:
    return a == AppliesTo.ALL or b == AppliesTo.ALL or a == b


# How strict an action is; a lower layer may not say less than a higher one (``require`` is an
# obligation on its own axis and is never compared).
STRICTNESS = {AccessAction.ALLOW: 0, AccessAction.RESTRICT: 1, AccessAction.PROHIBIT: 2}


# How deep in the jurisdiction hierarchy each layer sits (province → region → prefecture → county → unit).
# Regions and overlays (basins, red lines) share a depth: neither contains the other, so they are not
# compared with each other, only with the layers above and below them.
_DEPTH: dict[str, int] = {AccessLevel.PLAN: 0, AccessLevel.REGION: 2, AccessLevel.OVERLAY: 2, AccessLevel.UNIT: 5}


def division_depth(adcode: str) -> int:
    """A division clause's depth: a province (``230000``) 1, a prefecture (``230100``) 3, a county 4."""
    return 1 if adcode.endswith("0000") else 3 if adcode.endswith("00") else 4


def clause_rank(clause: Clause) -> int:
    """The clause's layer, higher layers first: plan, province, region or overlay, prefecture, county, unit.

    So a "1+3+13+N" list has its region layer under the province and above the 13 prefectures,
    and a prefecture's list sits above its counties' lists.
    """
    if clause.level == AccessLevel.DIVISION:
        return division_depth(clause.scope_code)
    return _DEPTH[clause.level]


def looser_than(lower: Clause, higher: Clause) -> bool:
    """``lower`` says less than ``higher`` for a common industry, project type and dimension (place aside)."""
    if lower.action not in STRICTNESS or higher.action not in STRICTNESS:
        return False
    if STRICTNESS[lower.action] >= STRICTNESS[higher.action]:
        return False
    if lower.dimension != higher.dimension or not applies_overlap(lower.applies_to, higher.applies_to):
        return False
    if lower.action == AccessAction.RESTRICT:
        # A restriction is a floor, not a permission: restricting C30 where C301 is prohibited adds to
        # the prohibition. It is looser only when it speaks of nothing but prohibited industries.
        return industries_within(lower.industry_codes, higher.industry_codes)
    # An ``allow`` is a permission: any industry it shares with a higher restriction or prohibition loosens it.
    return industries_overlap(lower.industry_codes, higher.industry_codes)


def industries_within(inner: Iterable[str], outer: Iterable[str]) -> bool:
    """Every industry of ``inner`` falls under ``outer`` (empty = every industry)."""
    inner, outer = tuple(inner), tuple(outer)
    if not outer:
        return True
    if not inner:
        return False
    return all(any(code.startswith(o) for o in outer) for code in inner)


def looser_conflicts(
    clauses: Iterable[Clause], *, same_place: Callable[[Clause, Clause, bool], bool]
) -> list[tuple[Clause, Clause]]:
    """(lower clause, higher clause) pairs of one plan where a lower layer is looser than a higher one.

    Prohibit > restrict > allow, per dimension and industry: a unit may not ``allow`` or ``restrict``
    what its district ``prohibit``s, nor ``allow`` what it ``restrict``s. ``same_place(lower, higher, within)``
    answers whether the two scopes cover a common place (``within``: whether all of the lower scope lies
    in the higher one, asked for a ``restrict``, which a wider scope only adds to); it is only asked for
    pairs that already clash.
    """
    clauses = [c for c in clauses if c.action in STRICTNESS]
    conflicts = []
    for lower in clauses:
        rank = clause_rank(lower)
        for higher in clauses:
            if clause_rank(higher) >= rank or not looser_than(lower, higher):
                continue
            if same_place(lower, higher, lower.action == AccessAction.RESTRICT):
                conflicts.append((lower, higher))
    return conflicts


def looser_conflicts_across(
    clauses: Iterable[Clause],
    parent_clauses: Iterable[Clause],
    *,
    same_place: Callable[[Clause, Clause, bool], bool],
) -> list[tuple[Clause, Clause]]:
    """(clause, parent clause) pairs where a plan is looser than its parent plan (every layer of it is higher)."""
    parents = [c for c in parent_clauses if c.action in STRICTNESS]
    return [
        (lower, higher)
        for lower in clauses
        for higher in parents
        if looser_than(lower, higher) and same_place(lower, higher, lower.action == AccessAction.RESTRICT)
    ]


_ACTION_VERB = {
    AccessAction.ALLOW: "allows",
    AccessAction.RESTRICT: "only restricts",
    AccessAction.PROHIBIT: "prohibits",
}


def looser_message(lower: Clause, higher: Clause) -> str:
    """``never looser: clause … allows what clause … prohibits …``, quoting both clauses."""
    return (
        f"never looser: {lower.label()} {_ACTION_VERB[lower.action]} what {higher.label()} "
        f"{'prohibits' if higher.action == AccessAction.PROHIBIT else 'restricts'} for the same place, "
        "dimension and industry; a lower layer may be stricter than a higher one, never looser"
    )
