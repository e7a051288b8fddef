"""HTML pages of the zoning app: the printable siting report (选址研判报告)."""

import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, render

from .choices import (
    AccessAction,
    AccessLevel,
    Dimension,
    ProjectType,
    UnitClass,
    Verdict,
)
from .models import SitingAssessment


def _grouped(clauses: list[dict], deciding: set[str]) -> list[dict]:
    """Clauses grouped by level then dimension, in the order the assessment stored them."""
    groups: list[dict] = []
    for clause in clauses:
        level = AccessLevel(clause["level"]).label
        if not groups or groups[-1]["level"] != level:
            groups.append({"level": level, "dimensions": []})
        dimensions = groups[-1]["dimensions"]
        dimension = Dimension(clause["dimension"]).label
        if not dimensions or dimensions[-1]["dimension"] != dimension:
            dimensions.append({"dimension": dimension, "clauses": []})
        dimensions[-1]["clauses"].append(
            {
                **clause,
                "action_label": AccessAction(clause["action"]).label,
                "deciding": clause["number"] in deciding,
            }
        )
    return groups


def siting_report(request, pk):
    """A stored siting assessment as a printable Chinese page; readable by whoever may read the API."""
    if not (request.user.is_authenticated or settings.PUBLIC_ZONING):
        return redirect_to_login(request.get_full_path())
    assessment = get_object_or_404(SitingAssessment.objects.select_related("plan"), pk=pk)
    result = assessment.result
    deciding = {c["number"] for c in result.get("deciding", [])}
    site = assessment.geom.transform(settings.API_SRID, clone=True)
    context = {
        "a": assessment,
        "verdict_label": Verdict(assessment.verdict).label,
        "project_type_label": ProjectType(assessment.project_type).label,
        "units": [
            {
                **u,
                "class_label": UnitClass(u["class"]).label,
                "share_pct": u["share"] * 100,
            }
            for u in result["units"]
        ],
        "groups": _grouped(result.get("requirements", []), deciding),
        "deciding": [
            {
                **c,
                "level_label": AccessLevel(c["level"]).label,
                "dimension_label": Dimension(c["dimension"]).label,
                "action_label": AccessAction(c["action"]).label,
            }
            for c in result.get("deciding", [])
        ],
        "result": result,
        "site_type": site.geom_type,
        "site_centroid": site.centroid,
        "site_geojson": json.dumps(json.loads(site.geojson), ensure_ascii=False),
    }
    return render(request, "zoning/siting_report.html", context)
