"""GB/T 4754-2017 national economic industry classification (国民经济行业分类).

Pure, Django-free loader for ``data/gbt4754_2017.csv``.

Coverage of the CSV
-------------------
* all 20 sections (门类 A–T, level ``section``);
* all 97 divisions (大类, level ``division``), written with the section letter
  as the project uses them: ``C26`` 化学原料和化学制品制造业;
* the groups (中类, 3 digits, level ``group``) of sections B, C and D only
  (mining, manufacturing, utilities), e.g. ``C261`` 基础化学原料制造.

Classes (小类, 4 digits such as ``C2614``) are *not* tabulated. They are still
accepted by :func:`industry_normalise` / :func:`industry_matches` as long as
their division exists.

Code semantics
--------------
A requirement code covers every code it is a prefix of (after
normalisation): ``C`` covers all of manufacturing, ``C26`` covers ``C261``
and ``C2614``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _

DATA_FILE = Path(__file__).resolve().parent / "data" / "gbt4754_2017.csv"

LEVELS = ("section", "division", "group")

_CODE_RE = re.compile(r"^(?P<letter>[A-Z])?(?P<digits>\d*)$")


class IndustryCodeError(ValueError):
    """Raised for a malformed or unknown GB/T 4754-2017 code."""


@dataclass(frozen=True)
class Industry:
    code: str
    name: str
    level: str
    parent: str | None

    @property
    def section(self) -> str:
        return self.code[0]


@lru_cache(maxsize=1)
def load_industries() -> dict[str, Industry]:
    """Return ``{code: Industry}`` for every row of the CSV (cached)."""
    out: dict[str, Industry] = {}
    with DATA_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["code"].strip()
            if code in out:
                raise ValueError(f"duplicate industry code {code!r} in {DATA_FILE.name}")
            level = row["level"].strip()
            if level not in LEVELS:
                raise ValueError(f"bad level {level!r} for {code!r} in {DATA_FILE.name}")
            out[code] = Industry(
                code=code,
                name=row["name"].strip(),
                level=level,
                parent=row["parent"].strip() or None,
            )
    return out


@lru_cache(maxsize=1)
def _division_sections() -> dict[str, str]:
    """``{'26': 'C', ...}``: the section each two-digit division belongs to."""
    return {ind.code[1:]: ind.code[0] for ind in load_industries().values() if ind.level == "division"}


def industry_normalise(code: str) -> str:
    """Normalise an industry code to the project form (section letter + digits).

    Accepts upper/lower case, inner whitespace and a missing section letter:
    ``'c26'``, ``'C 26'``, ``'26'`` -> ``'C26'``; ``'2614'`` -> ``'C2614'``;
    ``'c'`` -> ``'C'``. The number of digits must be 0 (section), 2, 3 or 4;
    the division must exist in GB/T 4754-2017 and, if a letter is given, it must
    be that division's section.

    Raises :class:`IndustryCodeError` otherwise (e.g. ``'Z99'``, ``'C2'``,
    ``'C26145'``, ``'B26'``).
    """
    if not isinstance(code, str):
        raise IndustryCodeError(_("industry code must be a string, got %(type)s") % {"type": type(code).__name__})
    raw = code
    cleaned = re.sub(r"\s+", "", code).upper()
    if not cleaned:
        raise IndustryCodeError(_("industry code is empty"))
    m = _CODE_RE.match(cleaned)
    if not m:
        raise IndustryCodeError(
            _(
                "malformed industry code %(raw)s: expected an optional section letter A–T followed by 2, 3 or 4 digits (e.g. 'C26', 'C261', 'C2614', '2614')"
            )
            % {"raw": repr(raw)}
        )
    letter, digits = m.group("letter"), m.group("digits")
    sections = {i.code for i in load_industries().values() if i.level == "section"}

    if not digits:
        if letter not in sections:
            raise IndustryCodeError(
                _("unknown industry section %(raw)s: GB/T 4754-2017 sections are A–T") % {"raw": repr(raw)}
            )
        return letter

    if len(digits) not in (2, 3, 4):
        raise IndustryCodeError(
            _("malformed industry code %(raw)s: %(value)s digit(s); a division has 2, a group 3 and a class 4 digits")
            % {"raw": repr(raw), "value": len(digits)}
        )
    division = digits[:2]
    section = _division_sections().get(division)
    if section is None:
        raise IndustryCodeError(
            _(
                "unknown industry code %(raw)s: division %(division)s does not exist in GB/T 4754-2017 (divisions run 01–97)"
            )
            % {"raw": repr(raw), "division": division}
        )
    if letter is not None and letter != section:
        if letter not in sections:
            raise IndustryCodeError(
                _("unknown industry section letter in %(raw)s: GB/T 4754-2017 sections are A–T") % {"raw": repr(raw)}
            )
        raise IndustryCodeError(
            _(
                "inconsistent industry code %(raw)s: division %(division)s belongs to section %(section)s, not %(letter)s"
            )
            % {"raw": repr(raw), "division": division, "section": section, "letter": letter}
        )
    normalised = section + digits
    if len(digits) == 3:
        # Groups are tabulated for B, C and D only; elsewhere we cannot verify them.
        if section in _sections_with_groups() and normalised not in load_industries():
            raise IndustryCodeError(
                _("unknown industry group %(raw)s: %(normalised)s is not a GB/T 4754-2017 group")
                % {"raw": repr(raw), "normalised": normalised}
            )
    return normalised


@lru_cache(maxsize=1)
def _sections_with_groups() -> frozenset[str]:
    return frozenset(i.code[0] for i in load_industries().values() if i.level == "group")


def industry_matches(requirement_code: str, project_code: str) -> bool:
    """True when ``project_code`` falls under ``requirement_code`` (prefix semantics).

    Both codes are normalised first (so ``'26'`` matches ``'c2614'``); either
    being malformed raises :class:`IndustryCodeError`.
    """
    req = industry_normalise(requirement_code)
    proj = industry_normalise(project_code)
    return proj.startswith(req)


def industry_search(q: str) -> list[Industry]:
    """Find industries by code prefix or by Chinese-name substring.

    A query made of an optional letter and digits is treated as a code prefix
    (``'C26'``, ``'c 26'``, ``'26'``, ``'C'``); any other query is matched as a
    substring of the name (``'化学'``). Results are sorted by code.
    """
    query = (q or "").strip()
    if not query:
        return []
    table = load_industries()
    compact = re.sub(r"\s+", "", query).upper()
    if _CODE_RE.match(compact):
        letter_digits = _CODE_RE.match(compact)
        letter, digits = letter_digits.group("letter"), letter_digits.group("digits")
        if letter is None and digits:
            section = _division_sections().get(digits[:2])
            if section is None and len(digits) == 1:
                # a single digit: any division starting with it
                return sorted(
                    (i for i in table.values() if i.level != "section" and i.code[1:].startswith(digits)),
                    key=lambda i: i.code,
                )
            if section is None:
                return []
            letter = section
        prefix = letter + digits
        return sorted((i for i in table.values() if i.code.startswith(prefix)), key=lambda i: i.code)
    return sorted((i for i in table.values() if query in i.name), key=lambda i: i.code)
