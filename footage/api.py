"""REST API for footage: holds, incidents, retention records, a camera's timeline and playback sessions.

Holds: anyone who may see a camera sees its holds; placing and releasing need the ``hold``
action on the camera's site (specialists on their eldership, Public Order, the DPO). Every
change goes through ``footage.services`` and is audited there.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from cameras import selectors as camera_selectors
from cameras.models import Camera
from footage import playback, selectors, services
from footage.models import Hold, Incident, RetentionRecord, ViewingMode
from safecam.api import public_id_or_404
from safecam.audit import request_context
from safecam.ids import UUID_LOOKUP
from safecam.permissions import can
from safecam.timeranges import InstantField, RangeError, parse_range


class CameraForHoldField(serializers.SlugRelatedField):
    """A camera by UUID, among those the caller may place holds on (others are "not found")."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return Camera.objects.restrict(getattr(request, "user", None), "hold")


class HoldSerializer(serializers.ModelSerializer):
    uuid = serializers.UUIDField(source="public_id", read_only=True)
    camera = CameraForHoldField(slug_field="public_id")
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    site = serializers.CharField(source="camera.site.slug", read_only=True)
    created_by = serializers.CharField(source="created_by.get_username", read_only=True)
    released_by = serializers.CharField(source="released_by.get_username", read_only=True, default=None)
    active = serializers.SerializerMethodField()
    start = InstantField()
    end = InstantField()
    expires_at = InstantField(required=False, allow_null=True)

    class Meta:
        model = Hold
        fields = ["uuid", "camera", "camera_name", "site", "start", "end", "reason", "review_on", "expires_at",
                  "active", "created_by", "created_at", "released_at", "released_by", "release_reason"]
        read_only_fields = ["created_at", "released_at", "release_reason"]
        extra_kwargs = {"reason": {"max_length": services.TEXT_MAX}}

    def get_active(self, hold: Hold) -> bool:
        return hold.is_active()

    def create(self, validated: dict[str, Any]) -> Hold:
        return services.hold_place(by=self.context["request"].user, **validated)


class HoldReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.TEXT_MAX)


class HoldViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Holds on footage the caller may see. POST places one; ``release/`` ends it."""

    reaches = staticmethod(camera_selectors.cameras_reachable)

    serializer_class = HoldSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "uuid"
    lookup_value_regex = UUID_LOOKUP
    filterset_fields = ["camera__public_id"]
    ordering_fields = ["created_at", "start"]

    def get_queryset(self):  # type: ignore[override]
        holds = selectors.holds_visible(self.request.user)
        active = self.request.query_params.get("active")
        if active in ("true", "1"):
            holds = holds.active()
        return holds.order_by("-created_at")

    @extend_schema(request=HoldReleaseSerializer, responses=HoldSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, uuid: str) -> Response:
        hold = selectors.hold_get(request.user, public_id_or_404(uuid), action="hold")
        body = HoldReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hold = services.hold_release(hold=hold, by=request.user, reason=body.validated_data["reason"])
        return Response(HoldSerializer(hold, context={"request": request}).data, status=status.HTTP_200_OK)


class RetentionRecordSerializer(serializers.ModelSerializer):
    camera = serializers.UUIDField(source="camera.public_id", read_only=True)
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    run_started_at = serializers.DateTimeField(source="run.started_at", read_only=True)
    run_status = serializers.CharField(source="run.status", read_only=True)
    run_kind = serializers.CharField(source="run.kind", read_only=True)

    class Meta:
        model = RetentionRecord
        fields = ["camera", "camera_name", "run_started_at", "run_status", "run_kind", "removed_from", "removed_until",
                  "segments", "bytes", "retention_hours"]


class RetentionRecordViewSet(viewsets.ReadOnlyModelViewSet):
    """Proof of deletion: what each retention pass removed, per camera the caller may see."""

    reaches = staticmethod(camera_selectors.cameras_reachable)

    serializer_class = RetentionRecordSerializer
    filterset_fields = ["camera__public_id"]

    def get_queryset(self):  # type: ignore[override]
        return selectors.retention_records_visible(self.request.user).order_by("-run__started_at", "camera__name")


class SpanSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["recorded", "gap", "unknown"])
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    detail = serializers.CharField()


class TimelineHoldSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(source="public_id")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField()
    active = serializers.SerializerMethodField()

    def get_active(self, hold: Hold) -> bool:
        return hold.is_active()


class IncidentSerializer(serializers.ModelSerializer):
    uuid = serializers.UUIDField(source="public_id", read_only=True)
    camera = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    created_by = serializers.CharField(source="created_by.get_username", read_only=True)
    hold = serializers.UUIDField(source="hold.public_id", read_only=True, default=None)

    class Meta:
        model = Incident
        fields = ["uuid", "camera", "start", "end", "note", "hold", "created_by", "created_at"]
        read_only_fields = fields


class ThumbnailSerializer(serializers.Serializer):
    segment = serializers.IntegerField()
    at = serializers.CharField(help_text="ISO 8601, UTC")

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        return instance  # built by the selector in its final form


class TimelineSerializer(serializers.Serializer):
    camera = serializers.UUIDField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    coverage = serializers.FloatField()
    spans = SpanSerializer(many=True)
    holds = TimelineHoldSerializer(many=True)
    incidents = IncidentSerializer(many=True)
    thumbnails = ThumbnailSerializer(many=True)


class TimelineView(APIView):
    """What was recorded between ``start`` and ``end`` (at most 31 days), why the rest was not, and
    the holds, incidents and preview pictures in it. Incidents and pictures only for callers who
    may play the camera's recorded footage. A constant number of queries, whatever the range."""

    reaches = staticmethod(camera_selectors.cameras_reachable)

    @extend_schema(parameters=[OpenApiParameter("start", str, required=True, description="ISO 8601"),
                               OpenApiParameter("end", str, required=True, description="ISO 8601")],
                   responses=TimelineSerializer)
    def get(self, request: Request, uuid: str) -> Response:
        camera = camera_selectors.camera_get(request.user, uuid)
        try:
            window = parse_range(request.query_params.get("start"), request.query_params.get("end"))
        except RangeError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        spans = selectors.timeline(camera, window)
        marks = selectors.timeline_marks(camera, window, footage=can(request.user, "playback", camera))
        return Response(TimelineSerializer({
            "camera": camera.public_id, "start": window.start, "end": window.end,
            "coverage": round(selectors.coverage(spans), 2), "spans": spans, **marks}).data)


class PlaybackRequestSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ViewingMode.choices, default=ViewingMode.RECORDED)


class PlaybackSessionSerializer(serializers.Serializer):
    session = serializers.UUIDField()
    mode = serializers.ChoiceField(choices=ViewingMode.choices)
    playlist = serializers.CharField(help_text="HLS playlist: add ?start=&end= (ISO 8601, at most "
                                               "SAFECAM_PLAYLIST_MAX_HOURS) for recorded footage.")
    live_playlist = serializers.CharField(required=False, help_text="Near-live HLS playlist (mode live).")
    beat = serializers.CharField(help_text="POST {\"watched\": [[start, end], ...], \"closing\": bool} "
                                           "every 15 s; 410 when the session expired.")
    thumbnail = serializers.CharField(help_text="Preview picture URL; replace {segment}.")
    idle_seconds = serializers.IntegerField()


class PlaybackSessionView(APIView):
    """Open a viewing session on a camera: the signed playlist links for recorded or near-live
    footage. The links work only for the caller, only while the session is active, and only
    while the caller still holds the right (``playback`` or ``live``) on the camera."""

    reaches = staticmethod(camera_selectors.cameras_reachable)

    @extend_schema(request=PlaybackRequestSerializer, responses={201: PlaybackSessionSerializer})
    def post(self, request: Request, uuid: str) -> Response:
        body = PlaybackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        mode = body.validated_data["mode"]
        camera = camera_selectors.camera_get(request.user, uuid, action=playback.MODE_ACTION[ViewingMode(mode)])
        session = playback.session_open(user=request.user, camera=camera, mode=mode,
                                        ip=request_context.get().ip,
                                        user_agent=request.headers.get("User-Agent", ""))
        return Response(PlaybackSessionSerializer(playback.session_links(session)).data,
                        status=status.HTTP_201_CREATED)


class IncidentCreateSerializer(serializers.Serializer):
    camera = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Camera.objects.none(),
        error_messages={"does_not_exist": _("There is no camera {value} whose footage you may play."),
                        "invalid": _("Give the camera's UUID.")})
    start = InstantField()
    end = InstantField()
    note = serializers.CharField(max_length=4000)
    place_hold = serializers.BooleanField(default=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["camera"].queryset = Camera.objects.restrict(getattr(request, "user", None), "playback")


class IncidentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Incidents marked on footage the caller may play. POST marks one (``place_hold`` also keeps the
    footage, with the hold right)."""

    reaches = staticmethod(camera_selectors.cameras_reachable)

    serializer_class = IncidentSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "uuid"
    lookup_value_regex = UUID_LOOKUP
    filterset_fields = ["camera__public_id"]

    def get_queryset(self):  # type: ignore[override]
        return (Incident.objects.restrict(self.request.user, "playback")
                .select_related("camera", "created_by", "hold").order_by("-start"))

    @extend_schema(request=IncidentCreateSerializer, responses={201: IncidentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = IncidentCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        incident = services.incident_mark(by=request.user, **body.validated_data)
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)


router = DefaultRouter()
router.register("holds", HoldViewSet, basename="hold")
router.register("retention-records", RetentionRecordViewSet, basename="retention-record")
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = [
    path("", include(router.urls)),
    path("cameras/<uuid:uuid>/timeline/", TimelineView.as_view(), name="camera-timeline"),
    path("cameras/<uuid:uuid>/playback/", PlaybackSessionView.as_view(), name="camera-playback"),
]
