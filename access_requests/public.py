"""Pages for residents (no login): the request form, its confirmation, the second-layer notices;
and, for the DPO, the printable information signs.

The form never says whether footage exists: nothing here reads the footage index, so the
confirmation and every error look the same whatever was recorded. Abuse is bounded before the
form is read: a rate limit per address (``SAFECAM_PUBLIC_FORM_RATE``), a body size limit, field
length limits and a honeypot field. CSRF protection stays on; it is applied after the size check
so an oversized body is refused without being read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from access_requests import services, signs
from access_requests.forms_public import HONEYPOT, SERVICE_FIELDS, PublicRequestForm
from access_requests.models import Channel
from cameras.models import Site
from safecam.audit import request_context
from safecam.doors import PERMISSION, PUBLIC, SIGNED_TOKEN, door

MAX_BODY_BYTES = 20 * 1024
SENT_SALT = "safecam.access_requests.public.sent"
SENT_MAX_AGE = 3600


def _controller_context() -> dict[str, Any]:
    controller = signs.controller_current()
    return {"controller": controller, "dpo_email": controller.dpo_email if controller else ""}


def _public_sites() -> Any:
    # Elderships and their cameras are public by law (Art. 13: the notice names them), so these
    # pages read the registry unscoped; nothing else about a site is shown here.
    return Site.objects.order_by("name")


# --- refusals -------------------------------------------------------------------------------------

def throttled(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Too many submissions from one address (django-ratelimit's ``RATELIMIT_VIEW``)."""
    return render(request, "access_requests/public/throttled.html", _controller_context(), status=429)


def _too_large(request: HttpRequest) -> HttpResponse:
    return render(request, "access_requests/public/too_large.html",
                  {**_controller_context(), "limit_kb": MAX_BODY_BYTES // 1024}, status=413)


def _body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > MAX_BODY_BYTES


def _form_rate(group: str, request: HttpRequest) -> str:
    # Read per request, so a deployment (or a test) can change it in settings.
    return settings.SAFECAM_PUBLIC_FORM_RATE


def _answer_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn django-ratelimit's refusal into the 429 page without its middleware (which would
    apply to every view of the site)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Ratelimited as exception:
            return throttled(request, exception)

    return wrapped


# --- the request form -----------------------------------------------------------------------------

def _render_form(request: HttpRequest, form: PublicRequestForm, status: int = 200) -> HttpResponse:
    if form.is_bound and HONEYPOT in form.data:
        # Shown again empty: a browser that autofilled it must not trip it twice.
        form.data = form.data.copy()
        form.data[HONEYPOT] = ""
    form.mark_errors()
    return render(request, "access_requests/public/request_form.html",
                  {**_controller_context(), "form": form}, status=status)


def _sent_token(reference: str, due_on: str) -> str:
    return signing.dumps({"reference": reference, "due_on": due_on}, salt=SENT_SALT, compress=False)


@csrf_protect
def _request_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        initial = {"site": request.GET.get("site", "")[:100]} if request.GET.get("site") else {}
        return _render_form(request, PublicRequestForm(initial=initial))
    form = PublicRequestForm(request.POST)
    if form.is_valid():
        try:
            registered = services.request_register(
                channel=Channel.WEB, by=None, submitted_from=services.submitter_key(request_context.get().ip),
                **form.request_fields())
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            for key, messages in errors.items():
                field = SERVICE_FIELDS.get(key) if key else None
                form.add_error(field if field in form.fields else None, messages)
        else:
            token = _sent_token(registered.reference, registered.due_on.isoformat())
            return redirect("public-request-sent", token=token)
    return _render_form(request, form, status=400)


@door(PUBLIC, reason="a data subject's request needs no account; rate-limited, size-limited, CSRF-checked")
@csrf_exempt  # CSRF is checked by _request_form, after the size check
@require_http_methods(["GET", "HEAD", "POST"])
@_answer_throttled
@ratelimit(key="ip", rate=_form_rate, method="POST", block=True)
def request_form(request: HttpRequest) -> HttpResponse:
    """A data subject's request (access, erasure, restriction, objection), POST-redirect-GET.

    A POST is counted against the address's allowance first (an oversized flood is a flood too),
    then its size is checked before anything reads the body, then its CSRF token.
    """
    if request.method == "POST" and _body_too_large(request):
        return _too_large(request)
    return _request_form(request)


@door(SIGNED_TOKEN, reason="the signed, hour-long token holds only the reference and the deadline")
@require_GET
def request_sent(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation: the reference, the deadline, and how to prove who you are."""
    try:
        sent = signing.loads(token, salt=SENT_SALT, max_age=SENT_MAX_AGE)
        reference, due_on = str(sent["reference"]), parse_date(str(sent["due_on"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Http404 from None
    if due_on is None:
        raise Http404
    return render(request, "access_requests/public/request_sent.html",
                  {**_controller_context(), "reference": reference, "due_on": due_on})


# --- the second-layer notices ---------------------------------------------------------------------

@door(PUBLIC, reason="the second-layer notice (GDPR Art. 13) is public by law")
@require_GET
def notice_index(request: HttpRequest) -> HttpResponse:
    return render(request, "access_requests/public/notice_index.html",
                  {**_controller_context(), "sites": _public_sites()})


@door(PUBLIC, reason="a site's notice: what the sign's QR code opens, public by law")
@require_GET
def notice(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(_public_sites(), slug=slug)
    return render(request, "access_requests/public/notice.html", signs.site_notice(site))


# --- information signs (the DPO) ------------------------------------------------------------------

signs_door = door(PERMISSION("access_requests.handle_request"), reason="the DPO prints the information signs")


@signs_door
@require_GET
def sign_index(request: HttpRequest) -> HttpResponse:
    return render(request, "access_requests/public/sign_index.html", {"sites": _public_sites()})


@signs_door
@require_GET
def sign_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    site = get_object_or_404(_public_sites(), slug=slug)
    pdf = signs.sign_pdf(site=site, notice_address=signs.notice_url(request, site),
                         request_address=signs.request_form_url(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="sign-{site.slug}.pdf"'
    return response

