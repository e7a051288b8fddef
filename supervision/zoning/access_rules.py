"""The rules of the access list (生态环境准入清单), on plain values: no ORM, no queries.

A clause applies to a project when its industry codes are empty or one of them is a
prefix of the project's code (``C26`` covers ``C2614``; ``C`` covers all manufacturing),
and its applies-to is ``all`` or the project type. The verdict is ``prohibited`` if any
applying clause prohibits, else ``restricted`` if any restricts, else ``allowed``.

A lower layer may be stricter than a higher one, never looser: it may not ``allow``
what a higher layer covering the same place ``prohibit``s for the same industry and
project type. Which places two scopes share is a spatial question; the caller answers it.
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


def looser_conflicts(
    clauses: Iterable[Clause], *, same_place: Callable[[Clause, Clause], bool]
) -> list[tuple[Clause, Clause]]:
    """(allowing clause, prohibiting clause) pairs where a lower layer allows what a higher one prohibits.

    ``same_place(lower, higher)`` answers whether the two scopes cover a common place; it
    is only asked for pairs whose levels, industries and project types already clash.
    """
    clauses = list(clauses)
    prohibits = [c for c in clauses if c.action == AccessAction.PROHIBIT]
    conflicts = []
    for allow in (c for c in clauses if c.action == AccessAction.ALLOW):
        rank = ACCESS_LEVEL_RANK[allow.level]
        for prohibit in prohibits:
            if ACCESS_LEVEL_RANK[prohibit.level] >= rank:
                continue
            if not applies_overlap(allow.applies_to, prohibit.applies_to):
                continue
            if not industries_overlap(allow.industry_codes, prohibit.industry_codes):
                continue
            if same_place(allow, prohibit):
                conflicts.append((allow, prohibit))
    return conflicts
