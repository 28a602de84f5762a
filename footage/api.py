"""REST API for footage: ``/api/v1/holds/`` and ``/api/v1/cameras/{uuid}/timeline/``.

Holds: anyone who may see a camera sees its holds; placing and releasing need the ``hold``
action on the camera's site (specialists on their eldership, Public Order, the DPO). Every
change goes through ``footage.services`` and is audited there.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
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
from footage import selectors, services
from footage.models import Hold, RetentionRecord
from safecam.timeranges import RangeError, parse_range


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

    class Meta:
        model = Hold
        fields = ["uuid", "camera", "camera_name", "site", "start", "end", "reason", "review_on", "expires_at",
                  "active", "created_by", "created_at", "released_at", "released_by", "release_reason"]
        read_only_fields = ["created_at", "released_at", "release_reason"]

    def get_active(self, hold: Hold) -> bool:
        return hold.is_active()

    def create(self, validated: dict[str, Any]) -> Hold:
        try:
            return services.hold_place(by=self.context["request"].user, **validated)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None


class HoldReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField()


class HoldViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Holds on footage the caller may see. POST places one; ``release/`` ends it."""

    serializer_class = HoldSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "uuid"
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
        hold = selectors.hold_get(request.user, uuid, action="hold")
        body = HoldReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            hold = services.hold_release(hold=hold, by=request.user, reason=body.validated_data["reason"])
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
        return Response(HoldSerializer(hold, context={"request": request}).data, status=status.HTTP_200_OK)


class RetentionRecordSerializer(serializers.ModelSerializer):
    camera = serializers.UUIDField(source="camera.public_id", read_only=True)
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    run_started_at = serializers.DateTimeField(source="run.started_at", read_only=True)
    run_status = serializers.CharField(source="run.status", read_only=True)

    class Meta:
        model = RetentionRecord
        fields = ["camera", "camera_name", "run_started_at", "run_status", "removed_from", "removed_until",
                  "segments", "bytes", "retention_hours"]


class RetentionRecordViewSet(viewsets.ReadOnlyModelViewSet):
    """Proof of deletion: what each retention pass removed, per camera the caller may see."""

    serializer_class = RetentionRecordSerializer
    filterset_fields = ["camera__public_id"]

    def get_queryset(self):  # type: ignore[override]
        return selectors.retention_records_visible(self.request.user).order_by("-run__started_at", "camera__name")


class SpanSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["recorded", "gap", "unknown"])
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField()
    detail = serializers.CharField()


class TimelineView(APIView):
    """What was recorded between ``start`` and ``end``, and why the rest was not."""

    @extend_schema(parameters=[OpenApiParameter("start", str, required=True, description="ISO 8601"),
                               OpenApiParameter("end", str, required=True, description="ISO 8601")],
                   responses=SpanSerializer(many=True))
    def get(self, request: Request, uuid: str) -> Response:
        camera = camera_selectors.camera_get(request.user, uuid)
        try:
            window = parse_range(request.query_params.get("start"), request.query_params.get("end"))
        except RangeError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        spans = selectors.timeline(camera, window)
        instant = serializers.DateTimeField()
        return Response({"camera": str(camera.public_id), "start": instant.to_representation(window.start),
                         "end": instant.to_representation(window.end),
                         "coverage": round(selectors.coverage(spans), 2),
                         "spans": SpanSerializer(spans, many=True).data})


router = DefaultRouter()
router.register("holds", HoldViewSet, basename="hold")
router.register("retention-records", RetentionRecordViewSet, basename="retention-record")

urlpatterns = [
    path("", include(router.urls)),
    path("cameras/<uuid:uuid>/timeline/", TimelineView.as_view(), name="camera-timeline"),
]
