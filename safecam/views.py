"""Project-wide views: error pages (JSON under /api/), and a liveness probe."""

from __future__ import annotations

from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from safecam.audit import AuditAction, audit_record
from safecam.doors import PUBLIC, SIGNED_IN, door


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("Something went wrong on the server; it has been logged.")}, status=500)
    return render(request, "500.html", status=500)


@door(PUBLIC, reason="load balancers and `make run` probe it; it answers 'ok' and nothing else")
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and `make run`: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@door(SIGNED_IN, reason="one's own password (Django's view is login_required too)")
class AuditedPasswordChangeView(PasswordChangeView):
    """Django's password change, with the change in the audit trail (never the password itself)."""

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(action=AuditAction.USER_CHANGED, actor=self.request.user, target=self.request.user,
                         details={"password_set": True})
        return response
