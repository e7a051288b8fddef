"""Ambient monitoring limits: GB 3095-2012 (air) and GB 3838-2002 (surface water).

Pure, Django-free loader for ``data/standards.csv``
(``standard,parameter,medium,grade,limit,unit,averaging``).

Air (``medium='air'``, GB 3095-2012 《环境空气质量标准》 Table 1, basic items):
grades ``I`` (一级, class-1 areas such as nature reserves) and ``II`` (二级,
all other areas) for SO2, NO2, CO, O3, PM10 and PM2.5. ``averaging`` is one of
``annual`` (年平均), ``24h`` (24小时平均), ``1h`` (1小时平均) and ``max8h``
(O3 日最大8小时平均). CO is in mg/m³, the rest in µg/m³.

Surface water (``medium='water'``, GB 3838-2002 《地表水环境质量标准》 Table 1):
classes ``I``–``V`` for DO, CODMn (高锰酸盐指数), COD (化学需氧量), BOD5, NH3-N,
TP (rivers) and, for lakes and reservoirs (湖、库), ``TP_lake`` and
``TN_lake``. All in mg/L; ``averaging='sample'`` (the standard gives limits
for a measured value, not an averaging period). DO is a *minimum* (≥), every
other water parameter a maximum (≤). The class I DO limit is "饱和率90%（或7.5）";
the 7.5 mg/L alternative is used. A value worse than class V is 劣V类, returned
as class 6.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "standards.csv"

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
INFERIOR_V = 6  # 劣V类

#: Water parameters where a *higher* value is better (limit is a minimum).
HIGHER_IS_BETTER = frozenset({"DO"})

#: HJ 663-2013 validity of a daily value: valid hourly values behind a 24-hour mean, valid
#: 8-hour means behind a daily maximum 8-hour mean (O3). Water samples are single values.
MIN_VALID_HOURS = {"24h": 20, "max8h": 14}

#: Averaging used by :func:`air_limit` when none is given.
DEFAULT_AIR_AVERAGING = {"O3": "max8h"}  # everything else: "24h"

_ALIASES = {
    "PM25": "PM2.5",
    "PM2_5": "PM2.5",
    "NH3N": "NH3-N",
    "NH3_N": "NH3-N",
    "NH4-N": "NH3-N",
    "CODCR": "COD",
    "COD_CR": "COD",
    "CODMN": "CODMn",
    "BOD": "BOD5",
    "BOD_5": "BOD5",
    "TP_LAKE": "TP_lake",
    "TN_LAKE": "TN_lake",
}


class StandardsError(ValueError):
    """Unknown parameter / grade / averaging, or an invalid value."""


class UnitError(StandardsError):
    """A unit that is unknown, or not a concentration unit of the parameter's medium."""


@dataclass(frozen=True)
class Limit:
    standard: str
    parameter: str
    medium: str
    grade: str
    limit: float
    unit: str
    averaging: str

    @property
    def higher_is_better(self) -> bool:
        return self.medium == "water" and self.parameter in HIGHER_IS_BETTER


@lru_cache(maxsize=1)
def load_standards() -> tuple[Limit, ...]:
    """All rows of ``standards.csv`` as :class:`Limit` objects (cached)."""
    rows = []
    seen = set()
    with DATA_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            lim = Limit(
                standard=row["standard"].strip(),
                parameter=row["parameter"].strip(),
                medium=row["medium"].strip(),
                grade=row["grade"].strip(),
                limit=float(row["limit"]),
                unit=row["unit"].strip(),
                averaging=row["averaging"].strip(),
            )
            key = (lim.medium, lim.parameter, lim.grade, lim.averaging)
            if key in seen:
                raise ValueError(f"duplicate standards row {key}")
            if lim.grade not in ROMAN or lim.medium not in ("air", "water"):
                raise ValueError(f"bad grade/medium in standards row {lim}")
            seen.add(key)
            rows.append(lim)
    return tuple(rows)


def _canonical_parameter(parameter: str, medium: str) -> str:
    if not isinstance(parameter, str) or not parameter.strip():
        raise StandardsError("parameter must be a non-empty string")
    p = parameter.strip().replace(" ", "")
    known = {lim.parameter for lim in load_standards() if lim.medium == medium}
    if p in known:
        return p
    for k in known:
        if k.upper() == p.upper():
            return k
    alias = _ALIASES.get(p.upper())
    if alias in known:
        return alias
    raise StandardsError(f"unknown {medium} parameter {parameter!r}; known: {sorted(known)}")


def _grade(grade) -> str:
    if isinstance(grade, int) and not isinstance(grade, bool):
        for roman, n in ROMAN.items():
            if n == grade:
                return roman
    elif isinstance(grade, str):
        g = grade.strip().upper()
        if g in ROMAN:
            return g
        if g.isdigit() and int(g) in ROMAN.values():
            return _grade(int(g))
    raise StandardsError(f"unknown grade/class {grade!r}; use 'I'–'V' or 1–5")


def air_limit(parameter: str, grade="II", averaging: str | None = None) -> Limit:
    """GB 3095-2012 limit for ``parameter`` (``'PM2.5'``, ``'PM10'``, ``'SO2'``,
    ``'NO2'``, ``'CO'``, ``'O3'``) at ``grade`` (``'I'`` or ``'II'``).

    ``averaging`` defaults to ``'24h'`` (``'max8h'`` for O3).
    """
    p = _canonical_parameter(parameter, "air")
    g = _grade(grade)
    if g not in ("I", "II"):
        raise StandardsError(f"GB 3095-2012 has grades I and II only, got {grade!r}")
    avg = averaging or DEFAULT_AIR_AVERAGING.get(p, "24h")
    for lim in load_standards():
        if lim.medium == "air" and lim.parameter == p and lim.grade == g and lim.averaging == avg:
            return lim
    available = sorted({lim.averaging for lim in load_standards() if lim.medium == "air" and lim.parameter == p})
    raise StandardsError(f"no {avg!r} limit for {p}; available averaging: {available}")


def water_limits(parameter: str) -> tuple[Limit, ...]:
    """The five GB 3838-2002 limits (class I..V) of a water parameter."""
    p = _canonical_parameter(parameter, "water")
    lims = sorted(
        (lim for lim in load_standards() if lim.medium == "water" and lim.parameter == p),
        key=lambda lim: ROMAN[lim.grade],
    )
    return tuple(lims)


def _check_value(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StandardsError(f"value must be a number, got {value!r}")
    v = float(value)
    if v != v or v < 0:
        raise StandardsError(f"value must be a non-negative number, got {value!r}")
    return v


def water_class(parameter: str, value) -> int:
    """GB 3838-2002 class (1–5) of a measured ``value``; 6 means 劣V类.

    For DO (higher is better) the best class whose minimum is met; for the
    others the best class whose maximum is not exceeded (limits are inclusive:
    COD 15 mg/L is class I).
    """
    v = _check_value(value)
    lims = water_limits(parameter)
    for lim in lims:
        ok = v >= lim.limit if lim.higher_is_better else v <= lim.limit
        if ok:
            return ROMAN[lim.grade]
    return INFERIOR_V


def exceeds(parameter: str, value, medium: str, target, averaging: str | None = None) -> bool:
    """Does ``value`` fail the ``target`` grade/class?

    * ``medium='air'``: ``target`` is the grade (``'I'``/``'II'``); True when
      ``value`` is strictly above the limit (limits are inclusive).
    * ``medium='water'``: ``target`` is the class objective (``'III'`` or 3);
      True when the value's :func:`water_class` is worse than the target
      (for DO: below the minimum).
    """
    m = (medium or "").strip().lower()
    if m == "air":
        v = _check_value(value)
        return v > air_limit(parameter, target, averaging).limit
    if m in ("water", "surface_water"):
        if averaging is not None:
            raise StandardsError("GB 3838-2002 limits have no averaging period")
        return water_class(parameter, value) > ROMAN[_grade(target)]
    raise StandardsError(f"unknown medium {medium!r}; use 'air' or 'water'")


# --- Units and physically possible values ---------------------------------------------------
#
# Every reading is stored in its parameter's canonical unit, the unit of its limits in
# standards.csv: µg/m³ for air (CO: mg/m³), mg/L for water. A reading in another known unit of
# the same kind is converted; an unknown unit is refused (never guessed).

#: Unit spellings met in exports, normalised (lower case, no spaces) → (kind, factor to mg).
#: Mass concentrations in air are per m³, in water per L; the factor scales to milligrams.
_UNIT_SPELLINGS: dict[str, tuple[str, float]] = {}
for _spellings, _kind, _factor in (
    (
        ("µg/m³", "μg/m³", "ug/m³", "µg/m3", "μg/m3", "ug/m3", "ug/m^3", "ugm-3", "微克/立方米", "微克每立方米"),
        "air",
        1e-3,
    ),
    (("mg/m³", "mg/m3", "mg/m^3", "mgm-3", "毫克/立方米", "毫克每立方米"), "air", 1.0),
    (("mg/l", "mg/升", "毫克/升", "毫克每升"), "water", 1.0),
    (("µg/l", "μg/l", "ug/l", "µg/升", "微克/升", "微克每升"), "water", 1e-3),
):
    for _s in _spellings:
        _UNIT_SPELLINGS[_s.lower()] = (_kind, _factor)

#: Upper bounds no ambient reading can reach, in the canonical unit (values above are
#: instrument or transcription errors, e.g. µg/m³ sent as mg/m³ for CO). The worst daily
#: PM2.5 ever published in China is about 1,000 µg/m³ and sandstorm PM10 about 9,000 µg/m³.
PLAUSIBLE_MAX: dict[str, float] = {
    "PM2.5": 2000.0,
    "PM10": 10000.0,
    "SO2": 5000.0,
    "NO2": 2000.0,
    "O3": 1200.0,
    "CO": 150.0,
    "DO": 20.0,
    "CODMn": 500.0,
    "COD": 2000.0,
    "BOD5": 1000.0,
    "NH3-N": 500.0,
    "TP": 100.0,
    "TP_lake": 100.0,
    "TN_lake": 500.0,
}


def canonical_unit(parameter: str, medium: str) -> str:
    """The unit readings of ``parameter`` are stored in (the unit of its limits)."""
    p = _canonical_parameter(parameter, medium)
    return next(lim.unit for lim in load_standards() if lim.medium == medium and lim.parameter == p)


def _unit_factor(unit: str) -> tuple[str, float]:
    key = unit.strip().replace(" ", "").lower()
    if key not in _UNIT_SPELLINGS:
        raise UnitError(f"unknown unit {unit!r}; known: µg/m³, mg/m³ (air), mg/L, µg/L (water)")
    return _UNIT_SPELLINGS[key]


def reading_normalise(parameter: str, medium: str, value, unit: str = "") -> tuple[float, str]:
    """``value`` in ``unit`` converted to the parameter's canonical unit, checked to be possible.

    An empty ``unit`` means the canonical one. Raises :class:`StandardsError` for an unknown
    unit, a unit of the wrong medium (mg/L for an air pollutant), a negative value or one
    above :data:`PLAUSIBLE_MAX`.
    """
    p = _canonical_parameter(parameter, medium)
    target = canonical_unit(p, medium)
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        raise StandardsError(f"value {value!r} is not a number")
    if unit and unit.strip():
        kind, factor = _unit_factor(unit)
        if kind != medium:
            raise UnitError(f"unit {unit!r} is not a {medium} concentration unit (expected {target})")
        _, target_factor = _unit_factor(target)
        v = v * factor / target_factor
    if v < 0:
        raise StandardsError(f"{p} cannot be negative ({value} {unit or target})")
    ceiling = PLAUSIBLE_MAX.get(p)
    if ceiling is not None and v > ceiling:
        raise StandardsError(
            f"{p} {v:g} {target} is not physically possible (at most {ceiling:g} {target}); check the unit"
        )
    return v, target
