"""Signing in past the password: the second factor's pages, and the lockout answer.

``/accounts/two-factor/setup/`` (first login: scan the QR code, type a code, keep the recovery
codes), ``/accounts/two-factor/`` (every later login: a code from the app or a recovery code),
``/accounts/two-factor/recovery-codes/`` (a verified user makes new codes). The services are in
``safecam.twofactor``; ``TwoFactorMiddleware`` sends people here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods

from safecam import twofactor
from safecam.doors import SIGNED_IN, door
from safecam.forms import InvalidMarked, widget_classes


class CodeForm(InvalidMarked, forms.Form):
    code = forms.CharField(label=gettext_lazy("One-time code"), max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                         "autofocus": True, "spellcheck": "false"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget_classes(self.fields)


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or settings.LOGIN_REDIRECT_URL
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@door(SIGNED_IN, reason="the user's own second factor; reachable before it is verified (TwoFactorMiddleware)")
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First login: an authenticator is enrolled, then the recovery codes are shown once."""
    if twofactor.enrolled(request.user) and not request.user.is_verified():
        return redirect("two_factor_verify")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.enrolment_confirm(request, form.cleaned_data["code"])
        if codes is not None:
            return render(request, "registration/two_factor_codes.html",
                          {"codes": codes, "next": _next(request), "first": True})
        form.add_error("code", _("That code does not match. Check the phone's clock and type the newest code."))
    enrolment = twofactor.enrolment_start(request)
    return render(request, "registration/two_factor_setup.html",
                  {"form": form, "enrolment": enrolment, "next": _next(request),
                   "required": twofactor.required(request.user)})


@door(SIGNED_IN, reason="the user's own one-time code, after the password")
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Every later login: a code from the authenticator app, or one recovery code."""
    if request.user.is_verified():
        return redirect(_next(request))
    if not twofactor.enrolled(request.user):
        return redirect("two_factor_setup")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        verdict = twofactor.verify(request, form.cleaned_data["code"])
        if verdict.ok:
            if verdict.used_recovery_code:
                from django.contrib import messages

                messages.warning(request, _("You used a recovery code; %(left)d are left. Make new ones "
                                            "if you are running out.") % {"left": verdict.recovery_codes_left})
            return redirect(_next(request))
        if verdict.throttled_seconds:
            form.add_error("code", _("Too many wrong codes: wait %(seconds)d seconds and try again.")
                           % {"seconds": verdict.throttled_seconds})
            status = 429
        else:
            form.add_error("code", _("That code does not match. Type the newest code from the app, or a "
                                     "recovery code."))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)},
                  status=status)


@door(SIGNED_IN, reason="the user's own recovery codes; only once verified")
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """A verified user sees how many recovery codes are left and can make new ones (shown once)."""
    if not twofactor.enrolled(request.user):
        return redirect("two_factor_setup")
    if not request.user.is_verified():
        return redirect("two_factor_verify")
    if request.method == "POST":
        codes = twofactor.recovery_codes_renew(request)
        return render(request, "registration/two_factor_codes.html",
                      {"codes": codes, "next": settings.LOGIN_REDIRECT_URL, "first": False})
    return render(request, "registration/two_factor_manage.html",
                  {"left": twofactor.remaining_recovery_codes(request.user)})


def locked_out(request: HttpRequest, response: HttpResponse | None = None,
               credentials: dict | None = None) -> HttpResponse:
    """django-axes' answer to a login from a locked-out user name or address (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("Too many failed logins. Try again in %(minutes)d minutes, or ask the administrator to "
                "unlock the account.") % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
