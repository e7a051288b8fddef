"""EIA approvals (规划环评 / 项目环评批复): each stored with its siting assessment at approval date.

Recording an approval (entered in the API or imported from CSV/XLSX) assesses its site and
industry against the plan in force on the approval date with the zoning siting rules and
stores the verdict, the deciding clauses and a conformity flag (allowed = conforms). The
approvals whose verdict is prohibited or restricted are the conflicts a bureau reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Point
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from supervision.cases.models import EnforcementTarget
from supervision.errors import Conflict, ImportRefused, ServiceError
from supervision.tables import TableError, column_map, table_read
from supervision.zoning.choices import PlanStatus, ProjectType, Verdict
from supervision.zoning.models import ZoningPlan
from supervision.zoning.selectors import geometry_transformed, siting_evaluate

from ..choices import EiaKind
from ..models import EiaApproval

KIND_TEXT = {"规划环评": EiaKind.PLANNING, "项目环评": EiaKind.PROJECT, **{v: v for v in EiaKind.values}}
PROJECT_TYPE_TEXT = {"新建": ProjectType.NEW, "改扩建": ProjectType.EXPANSION, **{v: v for v in ProjectType.values}}
COLUMNS: dict[str, tuple[str, ...]] = {
    "kind": ("审批类型",),
    "project_name": ("项目名称",),
    "project_type": ("建设性质",),
    "industry_code": ("行业代码",),
    "authority": ("审批机关",),
    "document_number": ("批复文号",),
    "approved_on": ("批复日期",),
    "lon": ("经度",),
    "lat": ("纬度",),
    "wkt": ("WKT",),
    "credit_code": ("统一社会信用代码",),
}
REQUIRED = ("kind", "project_name", "industry_code", "authority", "document_number", "approved_on")


def plan_at(*, geometry: GEOSGeometry, day: date) -> ZoningPlan:
    """The plan in force on `day` where the site lies: the latest effective (or since superseded) one."""
    plan = (
        ZoningPlan.objects.filter(
            status__in=[PlanStatus.EFFECTIVE, PlanStatus.SUPERSEDED],
            effective_date__lte=day,
            units__geom__intersects=geometry,
        )
        .order_by("-effective_date", "-id")
        .distinct()
        .first()
    )
    if plan is None:
        raise ServiceError(
            _("No plan was in force on %(day)s where the site lies.") % {"day": day.isoformat()}, code="no_plan"
        )
    return plan


def eia_approval_record(
    *,
    kind: str,
    project_name: str,
    geometry: GEOSGeometry,
    industry_code: str,
    authority: str,
    document_number: str,
    approved_on: date,
    project_type: str = ProjectType.NEW,
    target: EnforcementTarget | None = None,
    actor=None,
) -> EiaApproval:
    """Assess the approval's site at its approval date and store both (document numbers are unique)."""
    if kind not in EiaKind.values:
        raise ServiceError(_("kind: '%(value)s' is not planning or project.") % {"value": kind}, code="bad_kind")
    if geometry.srid != settings.STORAGE_SRID:
        geometry = geometry_transformed(geometry, settings.STORAGE_SRID)
    plan = plan_at(geometry=geometry, day=approved_on)
    result = siting_evaluate(plan=plan, geometry=geometry, industry_code=industry_code, project_type=project_type)
    try:
        with transaction.atomic():
            return EiaApproval.objects.create(
                kind=kind,
                project_name=project_name,
                project_type=result.project_type,
                geom=geometry,
                industry_code=result.industry_code,
                authority=authority,
                document_number=document_number,
                approved_on=approved_on,
                target=target,
                plan=plan,
                verdict=result.verdict,
                conforms=result.verdict == Verdict.ALLOWED,
                assessment=result.stored(),
                created_by=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        raise Conflict(
            _("An approval with document number %(number)s is already recorded.") % {"number": document_number},
            code="duplicate_document_number",
        ) from None


def eia_conflicts() -> QuerySet[EiaApproval]:
    """Approvals whose site the access list prohibits or restricts for their industry, newest first."""
    return EiaApproval.objects.filter(conforms=False).select_related("plan", "target").order_by("-approved_on", "-id")


@dataclass
class EiaImportReport:
    created: int
    conflicts: list[EiaApproval]


def _site(cells: dict[str, str], srid: int) -> GEOSGeometry | None:
    if cells.get("wkt"):
        try:
            geom = GEOSGeometry(cells["wkt"], srid=srid)
        except (GEOSException, GDALException, ValueError):
            return None
        if geom.geom_type == "Polygon":
            geom = MultiPolygon(geom, srid=srid)
        return geom if geom.geom_type in ("Point", "MultiPolygon") and not geom.empty and geom.valid else None
    try:
        return Point(float(cells.get("lon", "")), float(cells.get("lat", "")), srid=srid)
    except ValueError:
        return None


def eia_approvals_import(*, path: str, srid: int | None = None) -> EiaImportReport:
    """Record every approval of the file, each assessed, or refuse the whole file (row and column named)."""
    srid = srid or settings.API_SRID
    try:
        header, rows = table_read(path)
    except TableError as exc:
        raise ImportRefused(str(exc), problems=[str(exc)], code="unreadable") from None
    columns = column_map(header, COLUMNS)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in columns]
    if "wkt" not in columns and not {"lon", "lat"} <= columns.keys():
        missing.append("经度/纬度 or WKT")
    if missing:
        refusal = _("Missing column(s) %(columns)s (found: %(found)s).") % {
            "columns": ", ".join(missing),
            "found": ", ".join(header),
        }
        raise ImportRefused(refusal, problems=[refusal], code="missing_columns")
    problems: list[str] = []
    created: list[EiaApproval] = []
    seen: dict[str, int] = {}
    with transaction.atomic():
        for row_no, row in enumerate(rows, start=2):
            cells = {key: (row[i].strip() if i < len(row) else "") for key, i in columns.items()}

            def problem(key: str, text: str, row_no: int = row_no) -> None:
                name = header[columns[key]] if key in columns else key
                problems.append(
                    _("Row %(row)s, column %(column)s: %(problem)s") % {"row": row_no, "column": name, "problem": text}
                )

            empty = [k for k in REQUIRED if not cells[k]]
            for key in empty:
                problem(key, _("empty"))
            if empty:
                continue
            kind = KIND_TEXT.get(cells["kind"])
            if kind is None:
                problem("kind", _("'%(value)s' is not 规划环评 or 项目环评") % {"value": cells["kind"][:20]})
            project_type = PROJECT_TYPE_TEXT.get(cells.get("project_type") or ProjectType.NEW)
            if project_type is None:
                problem("project_type", _("'%(value)s' is not 新建 or 改扩建") % {"value": cells["project_type"][:20]})
            try:
                approved_on = date.fromisoformat(cells["approved_on"][:10])
            except ValueError:
                problem(
                    "approved_on", _("'%(value)s' is not a date (YYYY-MM-DD)") % {"value": cells["approved_on"][:20]}
                )
                approved_on = None
            site = _site(cells, srid)
            if site is None:
                problem("wkt" if cells.get("wkt") else "lon", _("no readable site (经度/纬度 or WKT)"))
            number = cells["document_number"]
            if number in seen:
                problem("document_number", _("repeats row %(row)s") % {"row": seen[number]})
            seen.setdefault(number, row_no)
            target = None
            if cells.get("credit_code"):
                target = EnforcementTarget.objects.filter(credit_code=cells["credit_code"].upper()).first()
                if target is None:
                    problem(
                        "credit_code",
                        _("no enforcement target has credit code %(code)s") % {"code": cells["credit_code"]},
                    )
            if kind is None or project_type is None or approved_on is None or site is None:
                continue
            try:
                created.append(
                    eia_approval_record(
                        kind=kind,
                        project_name=cells["project_name"],
                        project_type=project_type,
                        geometry=site,
                        industry_code=cells["industry_code"],
                        authority=cells["authority"],
                        document_number=number,
                        approved_on=approved_on,
                        target=target,
                    )
                )
            except Conflict as exc:
                problem("document_number", exc.message)
            except ServiceError as exc:
                # The site outside every plan in force, or an industry code siting cannot use.
                where = (
                    "industry_code"
                    if exc.message.startswith("industry_code")
                    else ("wkt" if cells.get("wkt") else "lon")
                )
                problem(where, exc.message)
        if problems:
            raise ImportRefused(
                _("The file was refused (%(count)s problem(s)); nothing was written.") % {"count": len(problems)},
                problems=problems,
                code="refused",
            )
    return EiaImportReport(created=len(created), conflicts=[a for a in created if not a.conforms])
