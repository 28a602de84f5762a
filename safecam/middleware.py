"""Request-scoped middleware: the language to show, and who is acting from where (for audit)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from safecam import audit


class LanguageMiddleware:
    """Lithuanian unless the user chose otherwise (the language cookie set by ``set_language``).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a municipal PC with
    an English Windows would show English; the users' language is Lithuanian, so the browser's
    wish is deliberately ignored and only an explicit choice switches.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.codes = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.codes else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the proxy's X-Forwarded-For when behind one."""
    if settings.SAFECAM_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Makes the acting user and their address available to audit records made in this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = audit.request_context.set(audit.RequestContext(request=request, ip=client_ip(request)))
        try:
            return self.get_response(request)
        finally:
            audit.request_context.reset(token)
