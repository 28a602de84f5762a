"""The OpenAPI schema's shared parts: the error answers every operation can give.

drf-spectacular documents only the success answer of an operation. SafeCam's API also answers,
by design, 401 to a caller who is not signed in, 404 for what the caller may not see (``Reach``
and every ``restrict()`` lookup), 400 with the project's error body for input it cannot use, 403
for a refused write and 429 when a throttle stops a caller. Those are written here once, from
what the view declares (its permissions, throttles, body and query parameters), instead of
repeating ``extend_schema(responses=...)`` on every view. An operation's own ``extend_schema`` for
a code wins over these.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _model_field_blank(field: Any) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except Exception:  # not a model field (a property, a method)
        return False


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (``safecam.api.exception_handler``)."""

    detail = serializers.CharField(help_text="A message a person can act on.")
    errors = serializers.JSONField(
        required=False,
        help_text="When input was refused: the messages for each field (a list of messages, or a nested object "
                  "for nested fields); a list of messages for the request as a whole.")


ERROR_DESCRIPTIONS = {
    "400": _("The request is not valid: see ``detail`` and the field messages in ``errors``."),
    "401": _("Not signed in: send a session cookie or ``Authorization: Token <token>``."),
    "403": _("Refused: the caller may not do this (or the session's CSRF token is missing)."),
    "404": _("Not found, or not visible to the caller."),
    "429": _("Too many attempts; wait and try again."),
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, with the error answers the operation can give, and two things
    answers hold that drf-spectacular does not infer from a read-only field: it is null when it
    falls back to ``default=None`` (``released_by``, ``hold`` ...), and a choice from a model field
    with ``blank=True`` may be "" (DRF drops ``allow_blank`` from read-only fields)."""

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        if field.read_only and isinstance(field, serializers.ChoiceField) and not field.allow_blank:
            field.allow_blank = _model_field_blank(field)
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if field.read_only and field.default is None and not field.allow_null:
            schema = {**schema, "nullable": True}
        return schema

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, media_types=["application/json"])
                responses[code]["description"] = str(ERROR_DESCRIPTIONS[code])
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        codes = []
        # Input it cannot use, or a write the object's state refuses (approving an export not yet reviewed).
        takes_input = "requestBody" in operation or any(p.get("in") == "query" for p in operation.get("parameters", []))
        if takes_input or self.method in UNSAFE_METHODS:
            codes.append("400")
        if any(isinstance(permission, IsAuthenticated) for permission in self.view.get_permissions()):
            # Signed in or not; then what the caller may not see (``Reach``, lookups, a page past the last)
            # is a 404, and a write may be refused.
            codes.append("401")
            if self.method in UNSAFE_METHODS:
                codes.append("403")
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes
