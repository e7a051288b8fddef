"""Assessment API (/api/v1/assessment/): schemes, scorecards, ranking, drill-down, compute, publish, correct, export."""

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from supervision.cases.permissions import is_city_wide, user_division_id
from supervision.errors import ServiceUnavailable
from supervision.queueing import task_send

from .. import export, selectors, services
from ..bottom_lines import bottom_lines_track
from ..models import AssessmentScheme
from ..permissions import MANAGE_ROLES, HasAssessmentRole, can_manage, require_role
from ..report import default_report_year, report_json, report_xlsx, tracking_report
from .serializers import (
    BottomLineQuerySerializer,
    BottomLineStatusSerializer,
    ComputeInputSerializer,
    CorrectInputSerializer,
    DrillRowSerializer,
    ExportQuerySerializer,
    OfficialShareSerializer,
    PeriodQuerySerializer,
    RankRowSerializer,
    ReportQuerySerializer,
    SchemeSerializer,
    ScorecardSerializer,
    TrackInputSerializer,
)


class SchemeListView(generics.ListAPIView):
    """Assessment schemes, newest version first, with their indicators and weights."""

    permission_classes = [HasAssessmentRole]
    serializer_class = SchemeSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.schemes_list()


class SchemeDetailView(generics.RetrieveAPIView):
    permission_classes = [HasAssessmentRole]
    serializer_class = SchemeSerializer
    lookup_field = "version"
    queryset = AssessmentScheme.objects.prefetch_related("indicators")


class ScorecardListView(generics.ListAPIView):
    """Scorecards in the caller's scope (officers: their own division's published cards)."""

    permission_classes = [HasAssessmentRole]
    serializer_class = ScorecardSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("plan", str),
            OpenApiParameter("period", str, description="2025 | 2025-Q3 | 2025-07"),
            OpenApiParameter("division", str, description="adcode"),
            OpenApiParameter("status", str),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        p = self.request.query_params
        return selectors.scorecards_list(
            user=self.request.user,
            plan_code=p.get("plan"),
            period_code=p.get("period"),
            division=p.get("division"),
            status=p.get("status"),
        )


class ScorecardDetailView(APIView):
    permission_classes = [HasAssessmentRole]

    @extend_schema(responses=ScorecardSerializer)
    def get(self, request, pk):
        return Response(ScorecardSerializer(selectors.scorecard_get(user=request.user, pk=pk)).data)


class DrillPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class DrillDownView(APIView):
    """The leads or cases behind one indicator's numerator or denominator (frozen ids once published)."""

    permission_classes = [HasAssessmentRole]

    @extend_schema(responses=DrillRowSerializer(many=True))
    def get(self, request, pk, code, side):
        card = selectors.scorecard_get(user=request.user, pk=pk)
        subject, rows, frozen = selectors.drilldown(user=request.user, scorecard=card, code=code, side=side)
        meta = {"scorecard": card.pk, "indicator": code, "side": side, "subject": subject, "frozen": frozen}
        if rows is None:
            line = card.lines.get(code=code)
            return Response({**meta, "count": 0, "constant": str(getattr(line, side)), "results": []})
        paginator = DrillPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        resp = paginator.get_paginated_response(DrillRowSerializer(page, many=True).data)
        resp.data = {**meta, **resp.data}
        return resp


class RankingView(APIView):
    """Divisions ranked by score; a division-scoped reader sees only their own row (with its rank)."""

    permission_classes = [HasAssessmentRole]

    @extend_schema(parameters=[PeriodQuerySerializer], responses=RankRowSerializer(many=True))
    def get(self, request):
        q = PeriodQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        st = q.validated_data["status"]
        if st != "published":
            require_role(request.user, "scores.compute")
        rows = selectors.ranking(plan_code=q.validated_data["plan"], period_code=q.validated_data["period"], status=st)
        if not can_manage(request.user) and not is_city_wide(request.user):
            rows = [r for r in rows if r.scorecard.division_id == user_division_id(request.user)]
        return Response(RankRowSerializer(rows, many=True).data)


class OfficialsView(APIView):
    """Officials (党委书记, 区长...) with their division's score, pro rata by the days they held it."""

    permission_classes = [HasAssessmentRole]
    roles = MANAGE_ROLES

    @extend_schema(parameters=[PeriodQuerySerializer], responses=OfficialShareSerializer(many=True))
    def get(self, request):
        q = PeriodQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        services.period_resolve(q.validated_data["period"])
        rows = selectors.officials_scores(
            plan_code=q.validated_data["plan"],
            period_code=q.validated_data["period"],
            status=q.validated_data["status"],
        )
        return Response(OfficialShareSerializer(rows, many=True).data)


class ComputeView(APIView):
    """Compute (or recompute) the draft scorecards of every division of a plan for a period."""

    permission_classes = [HasAssessmentRole]
    roles = MANAGE_ROLES

    @extend_schema(request=ComputeInputSerializer, responses=ScorecardSerializer(many=True))
    def post(self, request):
        data = ComputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        require_role(request.user, "scores.compute")
        plan = services.plan_resolve(v["plan"])
        period = services.period_resolve(v["period"])
        scheme = services.scheme_resolve(version=v.get("scheme"))
        if v["run_async"]:
            from ..tasks import scores_compute_task

            # Nothing is written before the task runs: with the broker down, say so (503)
            # after a short wait instead of hanging or failing with a 500.
            task = task_send(scores_compute_task, plan.pk, period.code, scheme.pk, request.user.pk)
            if task is None:
                raise ServiceUnavailable(
                    _("The task queue is unavailable; compute again later or without run_async."),
                    code="broker_unavailable",
                )
            return Response(
                {"queued": True, "task_id": getattr(task, "id", None), "plan": plan.code, "period": period.code},
                status=status.HTTP_202_ACCEPTED,
            )
        result = services.scores_compute(plan=plan, period=period, scheme=scheme, actor=request.user)
        return Response(
            {
                "plan": plan.code,
                "period": period.code,
                "scheme_version": scheme.version,
                "computed": ScorecardSerializer(result.computed, many=True).data,
                "skipped": [{"id": c.pk, "division": c.division.adcode, "status": c.status} for c in result.skipped],
            },
            status=status.HTTP_200_OK,
        )


class PublishView(APIView):
    permission_classes = [HasAssessmentRole]
    roles = MANAGE_ROLES

    @extend_schema(request=None, responses=ScorecardSerializer)
    def post(self, request, pk):
        card = selectors.scorecard_get(user=request.user, pk=pk)
        card = services.scorecard_publish(scorecard=card, actor=request.user)
        return Response(ScorecardSerializer(selectors.scorecard_get(user=request.user, pk=card.pk)).data)


class CorrectView(APIView):
    """Open a correction of a published scorecard: a new draft version with a reason."""

    permission_classes = [HasAssessmentRole]
    roles = MANAGE_ROLES

    @extend_schema(request=CorrectInputSerializer, responses=ScorecardSerializer)
    def post(self, request, pk):
        data = CorrectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = selectors.scorecard_get(user=request.user, pk=pk)
        new = services.scorecard_correct(scorecard=card, reason=data.validated_data["reason"], actor=request.user)
        return Response(ScorecardSerializer(selectors.scorecard_get(user=request.user, pk=new.pk)).data, status=201)


class ExportView(APIView):
    """A period's scorecards and ranking as CSV or XLSX (Chinese headers)."""

    permission_classes = [HasAssessmentRole]
    roles = MANAGE_ROLES

    @extend_schema(parameters=[ExportQuerySerializer], responses={(200, "application/octet-stream"): bytes})
    def get(self, request):
        q = ExportQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        require_role(request.user, "scores.export")
        v = q.validated_data
        services.period_resolve(v["period"])
        name = f"assessment-{v['plan']}-{v['period']}-{v['status']}"
        if v["file_format"] == "csv":
            chunks = export.export_csv_chunks(plan_code=v["plan"], period_code=v["period"], status=v["status"])
            resp = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
            resp["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return resp
        body = export.export_xlsx(plan_code=v["plan"], period_code=v["period"], status=v["status"])
        resp = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        resp["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return resp


class BottomLineListView(APIView):
    """Bottom-line targets' tracked statuses (met / off_track / insufficient_data) per year and quarter."""

    permission_classes = [HasAssessmentRole]

    @extend_schema(parameters=[BottomLineQuerySerializer], responses=BottomLineStatusSerializer(many=True))
    def get(self, request):
        q = BottomLineQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        v = q.validated_data
        services.plan_resolve(v["plan"])
        rows = selectors.bottom_line_statuses(
            user=request.user,
            plan_code=v["plan"],
            year=v.get("year"),
            period_code=v.get("period"),
            division=v.get("division"),
        )
        return Response(BottomLineStatusSerializer(rows, many=True).data)


class BottomLineTrackView(APIView):
    """Track a plan's bottom lines for a year now (the beat task does it daily); warns on a change to off track."""

    permission_classes = [HasAssessmentRole]
    roles = MANAGE_ROLES

    @extend_schema(request=TrackInputSerializer, responses=BottomLineStatusSerializer(many=True))
    def post(self, request):
        data = TrackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        require_role(request.user, "scores.compute")
        report = bottom_lines_track(
            plan=services.plan_resolve(data.validated_data["plan"]), year=data.validated_data.get("year")
        )
        return Response(
            {
                "plan": report.plan,
                "year": report.year,
                "counts": report.counts(),
                "changed": report.changed,
                "warned": report.warned,
                "statuses": BottomLineStatusSerializer(report.statuses, many=True).data,
            }
        )


class TrackingReportView(APIView):
    """The 跟踪评估 report of a plan for a year, as JSON or XLSX."""

    permission_classes = [HasAssessmentRole]
    roles = MANAGE_ROLES

    @extend_schema(parameters=[ReportQuerySerializer], responses={200: dict, (200, "application/octet-stream"): bytes})
    def get(self, request):
        q = ReportQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        v = q.validated_data
        plan = services.plan_resolve(v["plan"])
        rep = tracking_report(plan=plan, year=v.get("year") or default_report_year())
        if v["file_format"] == "xlsx":
            resp = HttpResponse(
                report_xlsx(rep), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
            resp["Content-Disposition"] = f'attachment; filename="tracking-report-{plan.code}-{rep.year}.xlsx"'
            return resp
        return Response(report_json(rep))
