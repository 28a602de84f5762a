"""Telling the DPO: a request arrived that they did not enter themselves, and, every morning, which
requests are overdue or due within a week. The mails carry the reference, the type and the deadline
with a link, never the requester's details: mail is a weaker channel than SafeCam itself.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from access_requests.models import AccessRequest
from cameras.models import Controller
from safecam import roles

REMIND_DAYS = 7


def dpo_recipients() -> list[str]:
    """The controller's DPO address and every active DPO user's."""
    users = get_user_model().objects.filter(Q(groups__name=roles.DATA_PROTECTION_OFFICER), is_active=True)
    addresses = {u.email for u in users if u.email}
    controller = Controller.objects.first()
    if controller and controller.dpo_email:
        addresses.add(controller.dpo_email)
    return sorted(addresses)


def link(request: AccessRequest) -> str:
    return settings.SAFECAM_BASE_URL.rstrip("/") + reverse("request-detail", kwargs={"public_id": request.public_id})


def request_received_notify(request: AccessRequest) -> None:
    """After commit: tell the DPO of a request someone else registered (the public form, the police)."""
    recipients = dpo_recipients()
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {"request": request, "link": link(request)}
        subject = render_to_string("access_requests/email/received_subject.txt", context).strip()
        body = render_to_string("access_requests/email/received_body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=True))


def requests_remind(today: date | None = None) -> int:
    """One morning mail listing open requests that are overdue or due within a week; 0 when none."""
    from safecam.timeranges import local_today

    today = today or local_today()
    due = list(AccessRequest.objects.open().filter(due_on__lte=today + timedelta(days=REMIND_DAYS))
               .order_by("due_on"))
    recipients = dpo_recipients()
    if not due or not recipients:
        return 0
    rows: list[dict[str, Any]] = [{"request": r, "days": (r.due_on - today).days, "link": link(r)} for r in due]
    with translation.override(settings.LANGUAGE_CODE):
        context = {"rows": rows, "overdue": sum(1 for r in rows if r["days"] < 0), "today": today}
        subject = render_to_string("access_requests/email/remind_subject.txt", context).strip()
        body = render_to_string("access_requests/email/remind_body.txt", context)
    send_mail(subject, body, None, recipients, fail_silently=False)
    return len(rows)
