"""The Celery app delivers a task through the configured broker (Redis in CI, files by default)."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from safecam.celery import app
from safecam.models import AuditEvent
from safecam.tasks import audit_trail_verify


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_audit_check_through_the_real_broker_and_records_the_verdict() -> None:
    queue = f"test-{uuid.uuid4().hex[:8]}"  # no other worker or leftover message can take it
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10):
        audit_trail_verify.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            event = AuditEvent.objects.filter(action="audit.verified").first()
            if event is not None:
                break
            time.sleep(0.2)
    assert event is not None, "the worker never ran the task"
    assert event.details["intact"] is True
