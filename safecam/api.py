"""Project-level API pieces: error format, token login, the audit trail (read-only), the schema."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView, exception_handler as drf_exception_handler

from safecam import twofactor
from safecam.audit import AuditAction, audit_record
from safecam.doors import PUBLIC, door
from safecam.models import AuditEvent


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error as ``{"detail": message}`` (plus field errors when a form failed).

    A service's Django ``ValidationError`` is a 400 with its field messages, like a serializer's, so
    API views call services without translating their errors themselves."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, (dict, list)) and "detail" not in response.data:
        response.data = {"detail": "The request is not valid; see the field errors.", "errors": response.data}
    return response


def public_id_or_404(value: object) -> uuid.UUID:
    """A public id from a route's ``{uuid}``: a malformed one is "not found" (404), like one the
    caller may not see, not a database error about the UUID's format (400)."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


class TokenRequestSerializer(AuthTokenSerializer):
    otp = serializers.CharField(label="One-time code", required=False, allow_blank=True, max_length=32,
                                help_text="A code from the authenticator app, or a recovery code; required for "
                                          "every account that needs two-factor authentication.")


@door(PUBLIC, reason="the password and the one-time code are the proof; throttled, locked out, failures audited")
class TokenObtainView(APIView):
    """``POST username, password, otp`` → ``{"token": ...}``; use as ``Authorization: Token <token>``.

    An account that needs two-factor authentication (safecam.twofactor) gets a token only with a
    valid one-time code, so a token is never a way around the second factor."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    serializer_class = TokenRequestSerializer

    @extend_schema(request=TokenRequestSerializer,
                   responses=inline_serializer("Token", {"token": serializers.CharField()}))
    def post(self, request: Request) -> Response:
        # The plain HttpRequest, so that django-axes marks a lockout where its middleware looks.
        serializer = TokenRequestSerializer(data=request.data, context={"request": request._request})
        serializer.is_valid(raise_exception=True)  # a failed attempt is audited by the auth signal
        user = serializer.validated_data["user"]
        if twofactor.required(user):
            if not twofactor.enrolled(user):
                raise ValidationError({"otp": ["Set up two-factor authentication by signing in to the portal "
                                               "once before asking for a token."]})
            device, verdict = twofactor.code_check(user, serializer.validated_data.get("otp") or "")
            if device is None:
                audit_record(action=AuditAction.TWO_FACTOR_FAILED, actor=user, target=user,
                             details={"step": "token"})
                raise ValidationError({"otp": ["A valid one-time code is required for this account."]})
        with transaction.atomic():
            # A fresh token each time (its validity counts from now); the old one stops working.
            Token.objects.filter(user=user).delete()
            token = Token.objects.create(user=user)
            audit_record(action=AuditAction.TOKEN_ISSUED, actor=user, target=user)
        return Response({"token": token.key})


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["seq", "at", "actor", "action", "target_type", "target_id", "target_repr", "ip", "details",
                  "prev_hash", "hash"]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, newest first; for the data-protection officer. Nobody can change it."""

    serializer_class = AuditEventSerializer
    lookup_field = "seq"
    reaches = staticmethod(lambda user: user.has_perm("safecam.view_auditevent"))
    filterset_fields = ["action", "actor_username", "target_type", "target_id"]
    ordering_fields = ["seq", "at"]

    def get_queryset(self):  # type: ignore[override]
        return AuditEvent.objects.restrict(self.request.user, "view").order_by("-seq")


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
