"""A target's compliance history at a glance (like an EPA ECHO facility report)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from supervision.cases import permissions as perms
from supervision.cases.choices import LeadSource
from supervision.cases.models import Inspection
from supervision.cases.selectors import cases_for, leads_for, targets_for
from supervision.remote_sensing.models import CemsValue

from .models import EiaApproval, PermitFinding, PermitLimit
from .services.cems import CN_HOURLY, VALID_FLAGS

HISTORY_YEARS = 3
CEMS_SUMMARY_DAYS = 90


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def target_compliance(*, user, target_id: int, now: datetime | None = None) -> dict:
    """Permit and limits, findings, EIA approvals, three years of inspections, leads, cases,
    penalties, CEMS exceedances and gaps of one target the user may see (else 404)."""
    now = now or timezone.now()
    since = now - timedelta(days=365 * HISTORY_YEARS)
    target = perms.scoped_get(targets_for(user=user), target_id, label="Target")
    limits = list(PermitLimit.objects.filter(target=target).order_by("outlet_code", "pollutant_code"))
    cems_since = now - timedelta(days=CEMS_SUMMARY_DAYS)
    cems = []
    for limit in limits:
        stats = CemsValue.objects.filter(
            device_mn=limit.device_mn, pollutant_code=limit.pollutant_code, cn=CN_HOURLY, data_time__gte=cems_since
        ).aggregate(
            hours=Count("id"),
            # as the exceedance episodes count them: valid measurements only (not a stop,
            # maintenance, calibration or fault hour, whatever its value)
            hours_above=Count("id", filter=Q(avg__gt=limit.hourly_limit, flag__in=VALID_FLAGS)),
            last=Max("data_time"),
        )
        cems.append(
            {
                "device_mn": limit.device_mn,
                "pollutant_code": limit.pollutant_code,
                "hourly_limit": limit.hourly_limit,
                "unit": limit.unit,
                "days": CEMS_SUMMARY_DAYS,
                "hours_reported": stats["hours"],
                "hours_above_limit": stats["hours_above"],
                "last_data_time": _iso(stats["last"]),
            }
        )
    leads = list(leads_for(user=user).filter(target=target, detected_at__gte=since).order_by("-detected_at"))
    cases = list(cases_for(user=user).filter(target=target, opened_at__gte=since).order_by("-opened_at"))
    inspections = (
        Inspection.objects.filter(target=target)
        .filter(Q(completed_at__gte=since) | Q(completed_at__isnull=True))
        .select_related("inspection_plan")
        .order_by("-completed_at", "-id")
    )

    def lead_row(lead) -> dict:
        return {
            "id": lead.id,
            "source": lead.source,
            "status": lead.status,
            "title": lead.title,
            "detected_at": _iso(lead.detected_at),
            "detections": lead.detections,
        }

    cems_leads = [lead for lead in leads if lead.source == LeadSource.CEMS]
    return {
        "target": {
            "id": target.id,
            "name": target.name,
            "credit_code": target.credit_code,
            "permit_number": target.permit_number,
            "permit_class": target.permit_class,
            "industry_code": target.industry_code,
            "division": target.division.adcode,
            "unit": target.unit.code if target.unit_id else None,  # type: ignore[union-attr]
        },
        "since": since.date().isoformat(),
        "permit_limits": [
            {
                "outlet_code": limit.outlet_code,
                "device_mn": limit.device_mn,
                "pollutant_code": limit.pollutant_code,
                "hourly_limit": limit.hourly_limit,
                "daily_limit": limit.daily_limit,
                "unit": limit.unit,
                "valid_from": _iso(limit.valid_from),
                "valid_to": _iso(limit.valid_to),
            }
            for limit in limits
        ],
        "permit_findings": [
            {
                "verdict": f.verdict,
                "reason": f.reason,
                "checked_at": _iso(f.checked_at),
                "deciding": f.result.get("deciding", []),
            }
            for f in PermitFinding.objects.filter(target=target)
        ],
        "eia_approvals": [
            {
                "document_number": a.document_number,
                "project_name": a.project_name,
                "approved_on": _iso(a.approved_on),
                "verdict": a.verdict,
                "conforms": a.conforms,
            }
            for a in EiaApproval.objects.filter(target=target)
        ],
        "inspections": [
            {
                "id": i.id,
                "plan": i.inspection_plan.name,
                "status": i.status,
                "completed_at": _iso(i.completed_at),
            }
            for i in inspections
        ],
        "leads": [lead_row(lead) for lead in leads],
        "cases": [
            {
                "id": c.id,
                "number": c.number,
                "status": c.status,
                "opened_at": _iso(c.opened_at),
                "penalty_amount_yuan": str(c.penalty_amount_yuan) if c.penalty_amount_yuan is not None else None,
            }
            for c in cases
        ],
        "penalties": [
            {"case": c.number, "amount_yuan": str(c.penalty_amount_yuan), "decided_at": _iso(c.penalty_decided_at)}
            for c in cases
            if c.penalty_amount_yuan is not None
        ],
        "cems": cems,
        "cems_exceedances": [
            lead_row(x) for x in cems_leads if x.evidence.get("rule") in ("cems_exceedance", "cems_daily_exceedance")
        ],
        "cems_gaps": [lead_row(x) for x in cems_leads if x.evidence.get("rule") == "cems_gap"],
    }
