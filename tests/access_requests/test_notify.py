"""The DPO hears of requests they did not enter, and of deadlines, by mail without personal details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from access_requests.models import AccessRequest, RequestKind
from access_requests.notify import requests_remind
from tests.access_requests.conftest import request_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo_mail(dpo: Any) -> str:
    dpo.email = "dpo@birzai.lt"
    dpo.save()
    return dpo.email


def test_a_police_request_is_announced_to_the_dpo(dpo_mail: str, public_order: Any, pabirze_camera: Any,
                                                  django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = request_make(by=public_order, kind=RequestKind.DISCLOSURE, camera=pabirze_camera)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [dpo_mail] and request.reference in message.subject
    assert f"/requests/{request.public_id}/" in message.body
    assert request.requester_name not in message.body and request.description not in message.body


def test_requests_the_dpo_enters_are_not_announced(dpo_mail: str, dpo: Any, vabalninkas_camera: Any,
                                                   django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request_make(by=dpo, camera=vabalninkas_camera)
    assert mail.outbox == []


def test_the_morning_reminder_lists_overdue_and_soon_due_requests(dpo_mail: str, dpo: Any,
                                                                  vabalninkas_camera: Any) -> None:
    today = timezone.localdate()
    overdue = request_make(by=dpo, camera=vabalninkas_camera)
    soon = request_make(by=dpo, camera=vabalninkas_camera)
    later = request_make(by=dpo, camera=vabalninkas_camera)
    AccessRequest.objects.filter(pk=overdue.pk).update(due_on=today - timedelta(days=1))
    AccessRequest.objects.filter(pk=soon.pk).update(due_on=today + timedelta(days=3))
    assert requests_remind(today) == 2
    body = mail.outbox[0].body
    assert overdue.reference in body and soon.reference in body and later.reference not in body
    assert body.index(overdue.reference) < body.index(soon.reference)
    assert "vėluoja" in mail.outbox[0].subject.lower() or "praleist" in mail.outbox[0].subject.lower()
    mail.outbox.clear()
    AccessRequest.objects.filter(pk__in=[overdue.pk, soon.pk]).update(due_on=today + timedelta(days=20))
    assert requests_remind(today) == 0 and mail.outbox == []
