"""Request size limits: every body is bounded before it is read, and an oversized one is a clear 413.

Django bounds form fields (``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``DATA_UPLOAD_MAX_NUMBER_FIELDS``) but not
file uploads, which it streams to a temporary file whatever their size, nor the JSON bodies DRF reads
straight from the stream. Here: an upload handler that refuses a multipart body over
``SAFECAM_UPLOAD_MAX_BYTES`` before any of it is stored, a JSON parser that refuses a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``, and the 400 handler that answers Django's ``RequestDataTooBig`` /
``TooManyFieldsSent`` as 413 with a message (JSON under /api/, a page elsewhere) instead of a bare 400.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import parsers, status
from rest_framework.exceptions import APIException


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} kB"


def too_large_message(limit: int) -> str:
    return _("The request is too large: at most %(limit)s may be sent at once.") % {"limit": _megabytes(limit)}


class LimitedUploadHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: refuses a multipart body whose declared length is over the
    limit before a byte of it reaches memory or a temporary file."""

    def handle_raw_input(self, input_data: Any, META: dict[str, Any], content_length: int, boundary: Any,
                         encoding: str | None = None) -> None:
        limit = settings.SAFECAM_UPLOAD_MAX_BYTES
        if content_length > limit:
            raise RequestDataTooBig(too_large_message(limit))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class LimitedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        import io

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if limit is not None and declared > limit:
            raise PayloadTooLarge(too_large_message(limit))
        data = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(data) > limit:
            raise PayloadTooLarge(too_large_message(limit))
        return super().parse(io.BytesIO(data), media_type, parser_context)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: Django's refusals of oversized bodies become a 413 that says what the limit is."""
    if isinstance(exception, RequestDataTooBig):
        code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        limit = settings.SAFECAM_UPLOAD_MAX_BYTES if (request.content_type or "").startswith("multipart/") \
            else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = too_large_message(limit)
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        message = _("The request has too many fields: at most %(n)d may be sent.") % {
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    else:
        code, message = status.HTTP_400_BAD_REQUEST, _("The request could not be understood.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=code)
    return render(request, "400.html", {"code": code, "message": message}, status=code)
