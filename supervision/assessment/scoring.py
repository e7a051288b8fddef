"""Weights and points from measured ratios; pure arithmetic, no ORM.

Score = Σ effective_weight × value over applicable indicators, where an inapplicable
indicator's weight is shared out over the applicable ones in proportion to their own
weights (so the applicable effective weights again sum to 100). Exact fractions until
the end; the score is rounded half-up to 2 decimals, each line's points to 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")
Q6 = Decimal("0.000001")


@dataclass(frozen=True)
class Line:
    code: str
    weight: Decimal
    value: Decimal | None  # None: not applicable


@dataclass(frozen=True)
class Scored:
    code: str
    weight: Decimal
    value: Decimal | None
    effective_weight: Decimal
    points: Decimal


def _dec(f: Fraction, q: Decimal) -> Decimal:
    return (Decimal(f.numerator) / Decimal(f.denominator)).quantize(q, rounding=ROUND_HALF_UP)


def score_lines(lines: list[Line]) -> tuple[list[Scored], Decimal | None]:
    applicable = [ln for ln in lines if ln.value is not None]
    total_w = sum((Fraction(ln.weight) for ln in applicable), Fraction(0))
    out, total = [], Fraction(0)
    for ln in lines:
        if ln.value is None or total_w == 0:
            out.append(Scored(ln.code, ln.weight, None, Decimal(0), Decimal(0)))
            continue
        eff = Fraction(ln.weight) * 100 / total_w
        pts = eff * Fraction(ln.value)
        total += pts
        out.append(
            Scored(ln.code, ln.weight, ln.value.quantize(Q6, rounding=ROUND_HALF_UP), _dec(eff, Q6), _dec(pts, Q4))
        )
    return out, (_dec(total, Q2) if total_w else None)


def competition_ranks(scores: list[Decimal | None]) -> list[int | None]:
    """1, 2, 2, 4: ties share a rank, the next rank skips; None scores are unranked."""
    ordered = sorted((s for s in scores if s is not None), reverse=True)
    first = {}
    for i, s in enumerate(ordered, 1):
        first.setdefault(s, i)
    return [first[s] if s is not None else None for s in scores]
