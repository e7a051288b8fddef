"""Permitted emission limits: imported from the bureau's table, each new or renewed permit checked.

`permit_limits_import` reads CSV/XLSX with the columns 统一社会信用代码, 排放口编码,
监测设备编码 (the HJ 212 MN), 污染物代码 (HJ 212-2017), 小时均值限值, 单位 and, optionally,
日均值限值, 有效期起, 有效期止. The whole file is refused (row and column named) or written.
A target whose limits are new, or whose validity dates change, is a new or renewed
permit: its industry is checked against the access list of its unit, and a prohibited or
restricted verdict is recorded as a PermitFinding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from supervision.cases.models import EnforcementTarget
from supervision.errors import ImportRefused, ServiceError
from supervision.tables import TableError, column_map, table_read
from supervision.zoning.choices import PlanStatus, ProjectType, Verdict
from supervision.zoning.models import ZoningPlan
from supervision.zoning.selectors import siting_evaluate

from ..choices import PermitCheckReason
from ..models import PermitFinding, PermitLimit

COLUMNS: dict[str, tuple[str, ...]] = {
    "credit_code": ("统一社会信用代码",),
    "outlet_code": ("排放口编码",),
    "device_mn": ("监测设备编码",),
    "pollutant_code": ("污染物代码",),
    "hourly_limit": ("小时均值限值",),
    "unit": ("单位",),
    "daily_limit": ("日均值限值",),
    "valid_from": ("有效期起",),
    "valid_to": ("有效期止",),
}
REQUIRED = ("credit_code", "outlet_code", "device_mn", "pollutant_code", "hourly_limit", "unit")
# HJ 212-2017 codes: a letter for the medium (a air, w water) and five digits.
POLLUTANT_CODE = re.compile(r"[aw]\d{5}")
# An MN is up to 24 characters of letters and digits (HJ 212-2017 6.3.3).
DEVICE_MN = re.compile(r"[A-Za-z0-9]{1,24}")
OUTLET_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass
class PermitImportReport:
    created: int = 0
    updated: int = 0
    checked: list[str] = field(default_factory=list)  # credit codes of new or renewed permits
    findings: list[PermitFinding] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)  # one line each: why a permit could not be checked


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 and value == value and value != float("inf") else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def permit_limits_import(*, path: str) -> PermitImportReport:
    """Write every limit of the file (insert or update on device + pollutant), or refuse the file."""
    try:
        header, rows = table_read(path)
    except TableError as exc:
        raise ImportRefused(str(exc), problems=[str(exc)], code="unreadable") from None
    columns = column_map(header, COLUMNS)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in columns]
    if missing:
        refusal = _("Missing column(s) %(columns)s (found: %(found)s).") % {
            "columns": ", ".join(missing),
            "found": ", ".join(header),
        }
        raise ImportRefused(refusal, problems=[refusal], code="missing_columns")

    targets = {t.credit_code: t for t in EnforcementTarget.objects.filter(credit_code__in=_codes(rows, columns))}
    owner_of = dict(PermitLimit.objects.values_list("device_mn", "target__credit_code").distinct())
    problems: list[str] = []
    records: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    for row_no, row in enumerate(rows, start=2):
        cells = {key: (row[i].strip() if i < len(row) else "") for key, i in columns.items()}

        def problem(key: str, text: str, row_no: int = row_no) -> None:
            problems.append(
                _("Row %(row)s, column %(column)s: %(problem)s")
                % {"row": row_no, "column": header[columns[key]], "problem": text}
            )

        before = len(problems)
        for key in REQUIRED:
            if not cells[key]:
                problem(key, _("empty"))
        if len(problems) > before:
            continue
        code = cells["credit_code"].upper()
        target = targets.get(code)
        if target is None:
            problem("credit_code", _("no enforcement target has credit code %(code)s") % {"code": code})
        if not OUTLET_CODE.fullmatch(cells["outlet_code"]):
            problem("outlet_code", _("'%(value)s' is not an outlet code") % {"value": cells["outlet_code"][:40]})
        mn = cells["device_mn"]
        if not DEVICE_MN.fullmatch(mn):
            problem("device_mn", _("'%(value)s' is not an HJ 212 MN (1-24 letters or digits)") % {"value": mn[:40]})
        elif owner_of.get(mn, code) != code:
            problem("device_mn", _("device %(mn)s belongs to another target") % {"mn": mn})
        pollutant = cells["pollutant_code"]
        if not POLLUTANT_CODE.fullmatch(pollutant):
            problem(
                "pollutant_code",
                _("'%(value)s' is not an HJ 212-2017 pollutant code (e.g. a21026)") % {"value": pollutant[:20]},
            )
        hourly = _number(cells["hourly_limit"])
        if hourly is None:
            problem("hourly_limit", _("'%(value)s' is not a positive number") % {"value": cells["hourly_limit"][:20]})
        daily = None
        if cells.get("daily_limit"):
            daily = _number(cells["daily_limit"])
            if daily is None:
                problem("daily_limit", _("'%(value)s' is not a positive number") % {"value": cells["daily_limit"][:20]})
        valid: dict[str, date | None] = {}
        for key in ("valid_from", "valid_to"):
            valid[key] = None
            if cells.get(key):
                valid[key] = _date(cells[key])
                if valid[key] is None:
                    problem(key, _("'%(value)s' is not a date (YYYY-MM-DD)") % {"value": cells[key][:20]})
        if valid["valid_from"] and valid["valid_to"] and valid["valid_to"] < valid["valid_from"]:
            problem("valid_to", _("the permit ends before it starts"))
        if (mn, pollutant) in seen:
            problem(
                "pollutant_code",
                _("device %(mn)s and %(code)s repeat row %(row)s")
                % {"mn": mn, "code": pollutant, "row": seen[(mn, pollutant)]},
            )
        seen.setdefault((mn, pollutant), row_no)
        if len(problems) > before:
            continue
        owner_of[mn] = code
        records.append(
            {
                "target": target,
                "outlet_code": cells["outlet_code"],
                "device_mn": mn,
                "pollutant_code": pollutant,
                "hourly_limit": hourly,
                "daily_limit": daily,
                "unit": cells["unit"],
                **valid,
            }
        )
    if problems:
        raise ImportRefused(
            _("The file was refused (%(count)s problem(s)); nothing was written.") % {"count": len(problems)},
            problems=problems,
            code="refused",
        )

    report = PermitImportReport()
    reasons: dict[int, str] = {}
    with transaction.atomic():
        for record in records:
            target = record["target"]
            existing = PermitLimit.objects.filter(
                device_mn=record["device_mn"], pollutant_code=record["pollutant_code"]
            ).first()
            if existing is None:
                if not PermitLimit.objects.filter(target=target).exists() and target.pk not in reasons:
                    reasons[target.pk] = PermitCheckReason.NEW
                else:
                    reasons.setdefault(target.pk, PermitCheckReason.RENEWED)
                PermitLimit.objects.create(**record)
                report.created += 1
                continue
            if (existing.valid_from, existing.valid_to) != (record["valid_from"], record["valid_to"]):
                reasons.setdefault(target.pk, PermitCheckReason.RENEWED)
            for key, value in record.items():
                setattr(existing, key, value)
            existing.save()
            report.updated += 1
        for target in EnforcementTarget.objects.filter(pk__in=reasons).select_related("unit__plan"):
            report.checked.append(target.credit_code)
            try:
                finding = permit_check(target=target, reason=reasons[target.pk])
            except ServiceError as exc:
                report.not_checked.append(f"{target.credit_code}: {exc.message}")
                continue
            if finding is not None:
                report.findings.append(finding)
    return report


def _codes(rows: list[list[str]], columns: dict[str, int]) -> set[str]:
    i = columns["credit_code"]
    return {row[i].strip().upper() for row in rows if i < len(row)}


def permit_check(*, target: EnforcementTarget, reason: str) -> PermitFinding | None:
    """Check a new or renewed permit against the access list where the target stands.

    The plan is the one of the target's unit, else the effective plan. A prohibited or
    restricted verdict for the target's industry is stored as a finding (with the
    deciding clauses); an allowed one records nothing.
    """
    if not target.industry_code:
        raise ServiceError(
            _("Target %(code)s has no industry code; its permit cannot be checked against the access list.")
            % {"code": target.credit_code},
            code="no_industry",
        )
    plan = target.unit.plan if target.unit_id else ZoningPlan.objects.filter(status=PlanStatus.EFFECTIVE).first()  # type: ignore[union-attr]
    if plan is None:
        raise ServiceError(_("There is no effective plan to check the permit against."), code="no_plan")
    # A first permit is a new operation; a renewal is an existing one (clauses for new projects do not apply).
    project_type = ProjectType.NEW if reason == PermitCheckReason.NEW else ProjectType.EXPANSION
    result = siting_evaluate(
        plan=plan,
        geometry=target.site or target.location,
        industry_code=target.industry_code,
        project_type=project_type,
    )
    if result.verdict == Verdict.ALLOWED:
        return None
    return PermitFinding.objects.create(
        target=target,
        plan=plan,
        reason=reason,
        verdict=result.verdict,
        industry_code=result.industry_code,
        result=result.stored(),
    )
