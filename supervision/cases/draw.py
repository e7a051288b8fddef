"""The double-random draw (双随机), pure: the same seed and pools always give the same draw.

Targets are drawn without replacement with probability growing with their weight
(Efraimidis–Spirakis: each target gets the key u ** (1 / weight), u from
random.Random(seed), and the `count` largest keys win). Then, target by target in draw
order, `per_target` inspectors are sampled from the inspector pool, leaving out those
of the target's own division when avoidance is on. Pools are sorted by id first so the
order they were read in cannot change the result; anyone holding the seed and the pools
can re-run it (`inspection_plan_verify`). The random stream is seeded with the seed *and*
a SHA-256 digest of the pools and the plan's numbers, so any change to a pool (one target
more or less, another weight, another inspector) gives a different draw: a pool cannot be
edited after the fact while keeping the published result.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from django.utils.translation import gettext as _

ALGORITHM = "es-weighted/random.Random(seed:sha256(pools))-v2"


class DrawError(ValueError):
    """The pools cannot satisfy the plan (too few targets or eligible inspectors)."""


@dataclass(frozen=True)
class PoolTarget:
    id: int
    division: str
    weight: float


@dataclass(frozen=True)
class PoolInspector:
    id: int
    division: str | None  # None: city-wide, never avoided


@dataclass(frozen=True)
class DrawnTask:
    target_id: int
    weight: float
    inspector_ids: tuple[int, ...]


def draw(
    *,
    seed: int,
    targets: list[PoolTarget],
    inspectors: list[PoolInspector],
    count: int,
    per_target: int,
    avoidance: bool,
) -> list[DrawnTask]:
    if count < 1 or per_target < 1:
        raise DrawError(_("count and per_target must be at least 1"))
    targets = sorted(targets, key=lambda t: t.id)
    inspectors = sorted(inspectors, key=lambda i: i.id)
    if len(targets) < count:
        raise DrawError(
            _("the target pool holds %(value)s targets, fewer than the %(count)s to draw")
            % {"value": len(targets), "count": count}
        )
    for t in targets:
        if t.weight <= 0:
            raise DrawError(
                _("target %(t_id)s has a non-positive weight %(t_weight)s") % {"t_id": t.id, "t_weight": t.weight}
            )
    rng = random.Random(f"{seed}:{pool_digest(targets, inspectors, count, per_target, avoidance)}")
    keyed = [(rng.random() ** (1.0 / t.weight), t) for t in targets]
    keyed.sort(key=lambda kt: (-kt[0], kt[1].id))
    out = []
    for __, target in keyed[:count]:
        eligible = [i.id for i in inspectors if not (avoidance and i.division == target.division)]
        if len(eligible) < per_target:
            raise DrawError(
                _(
                    "only %(value)s inspectors may inspect target %(target_id)s (division %(target_division)s%(avoidance)s); %(per_target)s needed"
                )
                % {
                    "value": len(eligible),
                    "target_id": target.id,
                    "target_division": target.division,
                    "avoidance": _(", avoidance on") if avoidance else "",
                    "per_target": per_target,
                }
            )
        out.append(DrawnTask(target.id, target.weight, tuple(sorted(rng.sample(eligible, per_target)))))
    return out


def pool_digest(targets, inspectors, count: int, per_target: int, avoidance: bool) -> str:
    """SHA-256 of the sorted pools and the plan's numbers, in a canonical JSON form."""
    canonical = json.dumps(
        {
            "targets": [[t.id, t.division, float(t.weight)] for t in sorted(targets, key=lambda t: t.id)],
            "inspectors": [[i.id, i.division] for i in sorted(inspectors, key=lambda i: i.id)],
            "count": count,
            "per_target": per_target,
            "avoidance": avoidance,
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
