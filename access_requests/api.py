"""REST API for requests and exports: ``/api/v1/access-requests/`` and ``/api/v1/exports/``.

The DPO (``access_requests.handle_request``) reads and writes everything; the Public Order
officer may file a police disclosure request and read the ones they filed; everyone else sees
empty lists and 404s. Writes go through ``access_requests.services`` (audited there); errors come
back as the project's JSON error format with field messages.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from access_requests import selectors, services
from access_requests.models import (AccessRequest, Channel, DeliveryMethod, Export, IdentityMethod, RequestFootage,
                                     RequestKind, RequestState)
from cameras.models import Camera, Site
from safecam.api import public_id_or_404
from safecam.audit import AuditAction, audit_record, request_context
from safecam.ids import UUID_LOOKUP
from safecam.timeranges import InstantField


class FootageSerializer(serializers.ModelSerializer):
    uuid = serializers.UUIDField(source="public_id", read_only=True)
    camera = serializers.UUIDField(source="camera.public_id", read_only=True)
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    hold = serializers.UUIDField(source="hold.public_id", read_only=True, default=None)

    class Meta:
        model = RequestFootage
        fields = ["uuid", "camera", "camera_name", "start", "end", "note", "hold", "added_at"]


class SiteSlugField(serializers.SlugRelatedField):
    """A site by slug; a NUL byte is "no such site" before it reaches PostgreSQL (a DataError there)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


class AccessRequestSerializer(serializers.ModelSerializer):
    uuid = serializers.UUIDField(source="public_id", read_only=True)
    site = SiteSlugField(slug_field="slug", queryset=Site.objects.all(), required=False,
                                        allow_null=True)
    camera = serializers.SlugRelatedField(slug_field="public_id", queryset=Camera.objects.all(), required=False,
                                          allow_null=True)
    footage = FootageSerializer(many=True, read_only=True)
    received_at = InstantField(required=False)
    window_start = InstantField()
    window_end = InstantField()
    is_open = serializers.BooleanField(read_only=True)
    next_states = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = ["uuid", "reference", "kind", "state", "is_open", "next_states", "channel", "received_at",
                  "requester_name", "requester_email", "requester_phone", "requester_address", "recipient_kind",
                  "recipient_organisation", "recipient_reference", "legal_basis", "description", "site", "camera",
                  "window_start", "window_end", "identity_method", "identity_verified_at", "due_on",
                  "extension_months", "extension_reason", "extension_notified_on", "outcome", "refusal_reasons",
                  "delivery_method", "delivered_on", "closed_at", "footage", "created_at"]
        read_only_fields = ["reference", "state", "identity_method", "identity_verified_at", "due_on",
                            "extension_months", "extension_reason", "extension_notified_on", "outcome",
                            "refusal_reasons", "delivery_method", "delivered_on", "closed_at", "created_at"]
        extra_kwargs = {"received_at": {"required": False}, "channel": {"required": False},
                        "legal_basis": {"max_length": 4000}}

    def get_next_states(self, obj: AccessRequest) -> list[str]:
        from access_requests.workflow import allowed

        return list(allowed(obj.state))

    def create(self, validated: dict[str, Any]) -> AccessRequest:
        user = self.context["request"].user
        if not user.has_perm("access_requests.handle_request") and validated.get("kind") != RequestKind.DISCLOSURE:
            raise PermissionDenied(_("You may file police disclosure requests only (type “disclosure”)."))
        validated.setdefault("channel", Channel.OFFICIAL if validated.get("kind") == RequestKind.DISCLOSURE
                             else Channel.EMAIL)
        return services.request_register(by=user, **validated)


class MoveSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=RequestState.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    identity_method = serializers.ChoiceField(choices=IdentityMethod.choices, required=False, allow_blank=True)
    identity_notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    refusal_reasons = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices, required=False, allow_blank=True)
    delivered_on = serializers.DateField(required=False, allow_null=True)


class ExtendSerializer(serializers.Serializer):
    months = serializers.IntegerField(min_value=1, max_value=2)
    reason = serializers.CharField(max_length=2000)
    notified_on = serializers.DateField()


class EraseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AttachSerializer(serializers.Serializer):
    camera = serializers.UUIDField()
    start = InstantField()
    end = InstantField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AccessRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """GDPR requests and disclosure requests. POST registers one; ``move/``, ``extend/`` and
    ``footage/`` act on it (the DPO only)."""

    reaches = staticmethod(selectors.requests_reachable)

    serializer_class = AccessRequestSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "uuid"
    lookup_value_regex = UUID_LOOKUP
    filterset_fields = ["kind", "state"]
    ordering_fields = ["due_on", "received_at"]

    def get_queryset(self):  # type: ignore[override]
        return (AccessRequest.objects.restrict(self.request.user, "view").select_related("site", "camera")
                .prefetch_related("footage__camera", "footage__hold").order_by("due_on", "received_at"))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        if not (user.has_perm("access_requests.handle_request") or user.has_perm("access_requests.file_disclosure")):
            raise NotFound()
        return super().create(request, *args, **kwargs)

    def _changeable(self, uuid: str) -> AccessRequest:
        item = (AccessRequest.objects.restrict(self.request.user, "change").filter(public_id=public_id_or_404(uuid))
                .first())
        if item is None:
            raise NotFound(_("No such request."))
        return item

    def _answer(self, item: AccessRequest) -> Response:
        item = self.get_queryset().get(pk=item.pk)
        return Response(AccessRequestSerializer(item, context={"request": self.request}).data)

    @extend_schema(request=MoveSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, uuid: str) -> Response:
        item = self._changeable(uuid)
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if v is not None}
        services.request_move(request=item, by=request.user, **data)
        return self._answer(item)

    @extend_schema(request=ExtendSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def extend(self, request: Request, uuid: str) -> Response:
        item = self._changeable(uuid)
        body = ExtendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.request_extend(request=item, by=request.user, **body.validated_data)
        return self._answer(item)

    @extend_schema(request=EraseSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, uuid: str) -> Response:
        """Carry out an erasure request: delete the attached footage now and complete the request."""
        item = self._changeable(uuid)
        body = EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.request_erase(request=item, by=request.user, reason=body.validated_data["reason"])
        return self._answer(item)

    @extend_schema(request=AttachSerializer, responses={201: FootageSerializer})
    @action(detail=True, methods=["post"])
    def footage(self, request: Request, uuid: str) -> Response:
        item = self._changeable(uuid)
        body = AttachSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        camera = selectors.search_cameras(item).filter(public_id=body.validated_data["camera"]).first()
        if camera is None:
            raise ValidationError({"camera": [_("That camera is not among this request's cameras.")]})
        found = services.footage_attach(request=item, camera=camera, by=request.user,
                                        start=body.validated_data["start"], end=body.validated_data["end"],
                                        note=body.validated_data.get("note", ""))
        return Response(FootageSerializer(found).data, status=status.HTTP_201_CREATED)


class RequestPlaybackView(APIView):
    """Open a viewing session on one of the request's cameras (the DPO's search; recorded footage only)."""

    reaches = staticmethod(selectors.requests_reachable)

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, uuid: str, camera: str) -> Response:
        from footage import playback

        item = AccessRequest.objects.restrict(request.user, "change").filter(public_id=uuid).first()
        if item is None or not item.is_open:
            raise NotFound(_("No such open request."))
        found = selectors.search_cameras(item).filter(public_id=camera).first()
        if found is None:
            raise NotFound(_("That camera is not among this request's cameras."))
        if request.data.get("mode", "recorded") != "recorded":
            raise ValidationError({"mode": [_("A request's search plays recorded footage only.")]})
        session = playback.session_open(user=request.user, camera=found, mode="recorded",
                                        ip=request_context.get().ip,
                                        user_agent=request.headers.get("User-Agent", ""),
                                        purpose=f"access_request:{item.public_id}",
                                        scope=selectors.search_scope(item))
        return Response(playback.session_links(session), status=status.HTTP_201_CREATED)


class PreviewSerializer(serializers.Serializer):
    at = serializers.FloatField(min_value=0, help_text="Seconds from the start of the attached range.")
    redaction = serializers.JSONField()


class FootagePreviewView(APIView):
    """One frame of an attached range with a redaction applied: what the export will show (audited)."""

    reaches = staticmethod(selectors.requests_reachable)

    @extend_schema(request=PreviewSerializer, responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def post(self, request: Request, uuid: str) -> HttpResponse:
        from access_requests import redaction
        from footage.playback import segment_at
        from footage.services import footage_storage

        found = (RequestFootage.objects.restrict(request.user, "change").select_related("request", "camera")
                 .filter(public_id=uuid).first())
        if found is None or not found.request.is_open:
            raise NotFound(_("No such footage on an open request."))
        body = PreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        at_clip = body.validated_data["at"]
        # Compared in seconds first: a huge ``at`` overflows timedelta.
        if at_clip >= (found.end - found.start).total_seconds():
            raise ValidationError({"at": [_("The moment is after the end of the attached range.")]})
        moment = found.start + timedelta(seconds=at_clip)
        try:
            spec = redaction.redaction_validate(body.validated_data["redaction"])
        except redaction.RedactionError as error:
            raise ValidationError({"redaction": [str(error)]}) from None
        segment = segment_at(found.camera, moment)
        if segment is None:
            raise ValidationError({"at": [_("Nothing was recorded at that moment.")]})
        offset = max(0.0, (moment - segment.start).total_seconds())
        with tempfile.TemporaryDirectory(prefix="safecam-preview-") as folder:
            local = Path(folder) / "segment.ts"
            with footage_storage().open(segment.storage_name, "rb") as source:
                local.write_bytes(source.read())
            try:
                image = redaction.redacted_frame(master=local, at=offset, spec=spec, clip_offset=offset - at_clip,
                                                 watermark=services.watermark_text(found.request, timezone.now()))
            except redaction.RedactionError as error:
                raise ValidationError({"redaction": [str(error)]}) from None
        audit_record(action=AuditAction.EXPORT_PREVIEWED, actor=request.user, target=found.request,
                     details={"reference": found.request.reference, "footage": str(found.public_id),
                              "camera": str(found.camera.public_id), "at": moment.isoformat(),
                              "regions": len(spec["regions"]), "bytes": len(image)})
        response = HttpResponse(image, content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response


class ExportSerializer(serializers.ModelSerializer):
    uuid = serializers.UUIDField(source="public_id", read_only=True)
    request = serializers.UUIDField(source="request.public_id", read_only=True)
    reference = serializers.CharField(source="request.reference", read_only=True)
    footage = serializers.UUIDField(write_only=True)
    camera = serializers.UUIDField(source="camera.public_id", read_only=True)
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    created_by = serializers.CharField(source="created_by.get_username", read_only=True)
    approved_by = serializers.CharField(source="approved_by.get_username", read_only=True, default=None)
    start = InstantField(required=False)
    end = InstantField(required=False)
    redaction = serializers.JSONField(required=False)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Export
        fields = ["uuid", "request", "reference", "footage", "camera", "camera_name", "start", "end", "redaction",
                  "status", "status_label", "progress", "stage", "error", "timings", "created_by", "created_at",
                  "started_at", "finished_at", "approved_by", "approved_at", "master_sha256", "redacted_sha256",
                  "package_sha256", "package_size"]
        read_only_fields = ["status", "progress", "stage", "error", "timings", "created_at", "started_at",
                            "finished_at", "approved_at", "master_sha256", "redacted_sha256", "package_sha256",
                            "package_size"]

    def create(self, validated: dict[str, Any]) -> Export:
        user = self.context["request"].user
        found = (RequestFootage.objects.restrict(user, "change").select_related("request", "camera")
                 .filter(public_id=validated["footage"]).first())
        if found is None:
            raise ValidationError({"footage": [_("No attached footage with that id on a request you handle.")]})
        return services.export_create(found=found, by=user, redaction=validated.get("redaction"),
                                      start=validated.get("start"), end=validated.get("end"))


class ExportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Evidential exports: rows with status, progress, timings, error and who asked. POST asks for
    one of an attached range (with a redaction); ``approve/`` releases a reviewed one for packaging."""

    reaches = staticmethod(selectors.requests_reachable)

    serializer_class = ExportSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "uuid"
    lookup_value_regex = UUID_LOOKUP
    filterset_fields = ["status"]

    def get_queryset(self):  # type: ignore[override]
        return (Export.objects.restrict(self.request.user, "view")
                .select_related("request", "camera", "created_by", "approved_by").order_by("-created_at"))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not request.user.has_perm("access_requests.handle_request"):
            raise NotFound()
        return super().create(request, *args, **kwargs)

    @extend_schema(request=None, responses=ExportSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, uuid: str) -> Response:
        export = Export.objects.restrict(request.user, "change").filter(public_id=public_id_or_404(uuid)).first()
        if export is None:
            raise NotFound()
        export = services.export_approve(export=export, by=request.user)
        return Response(ExportSerializer(export).data)


router = DefaultRouter()
router.register("access-requests", AccessRequestViewSet, basename="access-request")
router.register("exports", ExportViewSet, basename="export")

urlpatterns = [
    path("", include(router.urls)),
    path("access-requests/<uuid:uuid>/cameras/<uuid:camera>/playback/", RequestPlaybackView.as_view(),
         name="request-playback"),
    path("request-footage/<uuid:uuid>/preview/", FootagePreviewView.as_view(), name="request-footage-preview"),
]
