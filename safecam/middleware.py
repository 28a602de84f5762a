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


# Paths an unverified session may reach: the second-factor pages themselves, leaving, the
# language switch, static files and the liveness probe. Everything else waits for the code.
_UNVERIFIED_PATHS = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/static/", "/healthz")
IDLE_SESSION_KEY = "safecam_seen"
_IDLE_RESOLUTION = 60  # seconds: a session is written at most once a minute to note activity


class SessionIdleMiddleware:
    """Ends a signed-in session after ``SAFECAM_SESSION_IDLE_MINUTES`` without a request.

    The time of the last request is kept in the session at a one-minute resolution, so an active
    user costs one session write a minute, not one per request (a player fetching segments makes
    several a second). The expiry is audited and the login page says why the user is there.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            import time

            from django.contrib import messages
            from django.contrib.auth import logout
            from django.utils.translation import gettext as _

            now = int(time.time())
            seen = request.session.get(IDLE_SESSION_KEY)
            idle = settings.SAFECAM_SESSION_IDLE_MINUTES * 60
            if isinstance(seen, int) and now - seen > idle:
                audit.audit_record(action=audit.AuditAction.SESSION_EXPIRED, actor=user, target=user,
                                   details={"idle_minutes": (now - seen) // 60})
                logout(request)
                messages.info(request, _("You were signed out after %(minutes)d minutes without activity.")
                              % {"minutes": settings.SAFECAM_SESSION_IDLE_MINUTES})
            elif not isinstance(seen, int) or now - seen >= _IDLE_RESOLUTION:
                request.session[IDLE_SESSION_KEY] = now
        return self.get_response(request)


class TwoFactorMiddleware:
    """Until a user who needs a second factor (``safecam.twofactor.required``) has passed it, every
    page leads to enrolment (no authenticator yet: the first login) or to the code page, and every
    API call answers 403 saying so. Token-authenticated API calls are not affected: a token is only
    issued for a password *and* a code (``safecam.api.TokenObtainView``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not user.is_verified()
                and not request.path.startswith(_UNVERIFIED_PATHS)):
            from safecam import twofactor

            if twofactor.required(user):
                return self._second_factor_asked(request, enrolled=twofactor.enrolled(user))
        return self.get_response(request)

    @staticmethod
    def _second_factor_asked(request: HttpRequest, *, enrolled: bool) -> HttpResponse:
        from django.http import JsonResponse
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import url_has_allowed_host_and_scheme
        from django.utils.translation import gettext as _

        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("Two-factor verification is required: sign in again with your "
                                             "one-time code, or ask for a token with the code (otp).")},
                                status=403)
        target = reverse("two_factor_verify" if enrolled else "two_factor_setup")
        following = request.get_full_path()
        if request.method == "GET" and url_has_allowed_host_and_scheme(following, allowed_hosts={request.get_host()}):
            from urllib.parse import urlencode

            target += "?" + urlencode({"next": following})
        return redirect(target)
