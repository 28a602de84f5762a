"""``/api/v1/statistics/`` (figures by eldership, camera and month) and ``/api/v1/reports/`` (PDF jobs).

Same doors as the pages: statistics for whoever may see some eldership's figures (scoped to
them), reports for ``reports.manage_project`` only; anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from reports import jobs
from reports.forms import StatisticsFilterForm
from reports.models import Report
from reports.statistics import may_see_statistics, statistics
from safecam.ids import UUID_LOOKUP
from safecam.timeranges import RangeError, day_check, months_between


class FiguresSerializer(serializers.Serializer):
    expected_seconds = serializers.FloatField()
    recorded_seconds = serializers.FloatField()
    coverage_percent = serializers.FloatField(allow_null=True, source="coverage")
    gap_seconds = serializers.DictField(child=serializers.FloatField())
    unknown_seconds = serializers.FloatField()
    outages = serializers.IntegerField()
    segments = serializers.IntegerField()
    bytes_recorded = serializers.IntegerField()
    bytes_stored = serializers.IntegerField()
    playback_sessions = serializers.IntegerField()
    live_sessions = serializers.IntegerField()
    request_sessions = serializers.IntegerField()
    seconds_viewed = serializers.FloatField()
    stills = serializers.IntegerField()
    exports = serializers.IntegerField()
    holds = serializers.IntegerField()
    incidents = serializers.IntegerField()


class CameraMonthSerializer(serializers.Serializer):
    site = serializers.CharField()
    site_slug = serializers.CharField()
    camera = serializers.CharField()
    camera_id = serializers.UUIDField()
    month = serializers.SerializerMethodField()
    figures = FiguresSerializer()

    def get_month(self, row: Any) -> str:
        return f"{row.month:%Y-%m}"


class SiteFiguresSerializer(serializers.Serializer):
    site = serializers.CharField()
    site_slug = serializers.CharField()
    cameras = serializers.IntegerField()
    figures = FiguresSerializer()


class MonthFiguresSerializer(serializers.Serializer):
    month = serializers.CharField()
    figures = FiguresSerializer()


class RequestMonthSerializer(serializers.Serializer):
    month = serializers.CharField(allow_null=True)
    received = serializers.IntegerField()
    closed = serializers.IntegerField()
    open = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    by_kind = serializers.DictField(child=serializers.IntegerField())
    by_outcome = serializers.DictField(child=serializers.IntegerField())
    police = serializers.IntegerField()
    police_disclosed = serializers.IntegerField()


class StatisticsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    months = serializers.ListField(child=serializers.CharField())
    total = FiguresSerializer()
    by_site = SiteFiguresSerializer(many=True)
    by_month = MonthFiguresSerializer(many=True)
    cameras = CameraMonthSerializer(many=True)
    requests = RequestMonthSerializer(many=True, allow_null=True)
    requests_total = RequestMonthSerializer(allow_null=True)


def _request_row(summary: dict[str, Any]) -> dict[str, Any]:
    month = summary["month"]
    return {**summary, "month": f"{month:%Y-%m}" if month else None, "by_kind": dict(summary["by_kind"]),
            "by_outcome": dict(summary["by_outcome"])}


class StatisticsView(APIView):
    """Usage statistics from the daily roll-ups: aggregates only, no personal data. ``start`` and
    ``end`` are months (``YYYY-MM``, default the last twelve); ``site`` a slug, ``camera`` a UUID."""

    reaches = staticmethod(may_see_statistics)

    @extend_schema(parameters=[
        OpenApiParameter("start", str, description="first month, YYYY-MM"),
        OpenApiParameter("end", str, description="last month, YYYY-MM"),
        OpenApiParameter("site", str, description="an eldership's slug"),
        OpenApiParameter("camera", str, description="a camera's UUID"),
    ], responses=StatisticsSerializer)
    def get(self, request: Request) -> Response:
        form = StatisticsFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
        data = form.cleaned_data
        stats = statistics(request.user, first=data["first"], last=data["last"], site=data.get("site"),
                           camera=data.get("camera"))
        body = {
            "start": stats.first, "end": stats.last, "months": [f"{m:%Y-%m}" for m in months_between(stats.first,
                                                                                                   stats.last)],
            "total": stats.total,
            "by_site": [{"site": name, "site_slug": slug, "cameras": f.cameras, "figures": f}
                        for name, slug, f in stats.by_site],
            "by_month": [{"month": f"{month:%Y-%m}", "figures": f} for month, f in stats.by_month],
            "cameras": stats.rows,
            "requests": [_request_row(m) for m in stats.requests.per_month] if stats.requests else None,
            "requests_total": _request_row(stats.requests.total) if stats.requests else None,
        }
        return Response(StatisticsSerializer(body).data)


class ReportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    asked_by = serializers.CharField(source="created_by.get_username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "kind", "language", "period_start", "period_end", "problems", "status", "progress", "stage",
                  "error", "pages", "file_size", "file_sha256", "asked_by", "created_at", "started_at",
                  "finished_at", "timings", "download_url"]
        read_only_fields = ["status", "progress", "stage", "error", "pages", "file_size", "file_sha256",
                            "created_at", "started_at", "finished_at", "timings"]

    def get_download_url(self, report: Report) -> str | None:
        return reverse("report-download", args=[report.public_id]) if report.status == "done" else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("period_start"), attrs.get("period_end")
        for name in ("period_start", "period_end"):
            try:
                day_check(attrs[name], field=name) if attrs.get(name) else None
            except RangeError as exc:
                raise serializers.ValidationError({name: str(exc)}) from None
        if start and end and end < start:
            raise serializers.ValidationError({"period_end": "The period must not end before it starts."})
        if start and end and len(months_between(start, end)) > 60:
            raise serializers.ValidationError({"period_end": "A period may cover at most 60 months."})
        return attrs


class ReportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The funder's PDF reports: rows with status and progress; POST asks for one (a Celery job)."""

    serializer_class = ReportSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "uuid"
    lookup_value_regex = UUID_LOOKUP
    filterset_fields = ["kind", "status", "language"]
    reaches = staticmethod(lambda user: user.has_perm("reports.manage_project"))

    def get_queryset(self):  # type: ignore[override]
        return Report.objects.restrict(self.request.user, "view").select_related("created_by")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = jobs.report_request(kind=data["kind"], language=data["language"], period_start=data["period_start"],
                                     period_end=data["period_end"], problems=data.get("problems", ""),
                                     by=request.user)
        return Response(ReportSerializer(report).data, status=201)


router = DefaultRouter()
router.register("reports", ReportViewSet, basename="report")

urlpatterns = [
    path("statistics/", StatisticsView.as_view(), name="statistics"),
    path("", include(router.urls)),
]
