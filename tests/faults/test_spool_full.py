"""Fault: the storage server is down so long that the recording host's spool disk fills up.

What SafeCam does (``footage.spool``): it alerts at ``SAFECAM_SPOOL_ALERT_PERCENT`` (log CRITICAL,
mail, the red banner); when the spool reaches what it may hold (its limit, or its disk's free space
less ``SAFECAM_SPOOL_RESERVE_MB``) the recorder stops writing new footage, with a gap "spool full"
on the camera's timeline and an audit event naming the camera and the time from which nothing was
recorded. The footage already in the spool, the oldest not yet stored, is never deleted to make
room: it may be the evidence a request asks for. Once storage answers, the spool drains, every
waiting segment is stored, and recording resumes by itself.

The spool is a real 8 MB tmpfs (``tests.faults.services.small_filesystem``), so the disk that fills
is a disk; where mounting is not allowed, a 6 MB ``SAFECAM_SPOOL_LIMIT_MB`` plays its part.
"""

from __future__ import annotations

import re
import time
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import translation

from footage.context_processors import recording_alert
from footage.models import EndReason, Gap, Run, Segment, StorageStatus
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from tests.faults.services import small_filesystem
from tests.footage.recording_harness import RecordingPipeline, sha256_of
from tests.servers import SFTPServer

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_a_full_spool_stops_recording_with_an_audited_gap_keeps_what_waits_and_resumes_after(
        sftp_server: SFTPServer, pipeline: RecordingPipeline, public_order: Any, settings: Any) -> None:
    public_order.email = "viesoji.tvarka@birzai.lt"
    public_order.save()
    pipeline.use_sftp(sftp_server)
    with small_filesystem(pipeline.spool_dir, 8) as mounted:
        limits = ({"SAFECAM_SPOOL_RESERVE_MB": "2"} if mounted
                  else {"SAFECAM_SPOOL_LIMIT_MB": "6", "SAFECAM_SPOOL_RESERVE_MB": "0"})
        pipeline.extra_env.update(limits)
        for key, value in limits.items():
            setattr(settings, key, int(value))
        sftp_server.stop()  # storage down from the start: nothing leaves the spool
        # ~3 Mbit/s: the spool fills in seconds, not hours.
        pipeline.start_simulator(count=1, width=640, height=360, fps=25, bitrate=3000)
        camera = pipeline.camera(0)
        pipeline.start_worker("alpha")
        pipeline.start_beat()

        pipeline.wait_until(lambda: StorageStatus.objects.filter(pk=1, spool_alerted_at__isnull=False).exists(),
                            60.0, "the spool alert fired")
        request = RequestFactory().get("/")
        request.user = get_user_model().objects.get(pk=public_order.pk)
        assert recording_alert(request)["recording_alert"]["spool_filling"]

        run = pipeline.wait_until(lambda: Run.objects.filter(camera=camera, end_reason=EndReason.SPOOL_FULL).first(),
                                  60.0, "recording stopped because the spool is full")
        gap = Gap.objects.get(camera=camera, end__isnull=True)
        assert (gap.reason, gap.start, gap.after_run_id) == (EndReason.SPOOL_FULL, run.ended_at, run.pk)
        event = AuditEvent.objects.get(action=AuditAction.RECORDING_SPOOL_FULL)
        assert event.target_id == str(camera.public_id)
        assert event.details["camera"] == str(camera.public_id)
        assert event.details["run"] == str(run.public_id) and event.details["from"]
        pipeline.wait_until(lambda: not pipeline.ffmpeg_of(pipeline.services["alpha"]), 10.0, "ffmpeg stopped")
        with translation.override("lt"):  # mails go out in the users' language
            subject = translation.gettext("SafeCam: the spool is full, recording has stopped")
        pipeline.wait_until(lambda: subject in _mailed_subjects(pipeline.services["alpha"].log_tail(400)
                                                                + "\n" + pipeline.services["beat"].log_tail(400)),
                            30.0, "the administrators were mailed that recording stopped")

        # Nothing is dropped to make room: every closed segment of the run waits, and keeps waiting.
        waiting = {(folder / closed.filename): sha256_of(folder / closed.filename)
                   for folder, closed in pipeline.spool_waiting()}
        assert len(waiting) >= 5
        time.sleep(3)
        assert {p: sha256_of(p) for p in waiting if p.exists()} == waiting
        assert Run.objects.filter(camera=camera).count() == 1, "recording restarted while the spool was full"
        assert not Segment.objects.filter(camera=camera).exists()
        assert not Gap.objects.filter(camera=camera, reason=EndReason.SEGMENT_LOST).exists()

        sftp_server.start()
        pipeline.wait_until(lambda: not [p for p in waiting if p.exists()], 90.0, "the spool drained")
        stored = {s.sha256 for s in Segment.objects.filter(run=run)}
        assert set(waiting.values()) <= stored, "a segment that waited in the spool was not stored"
        resumed = pipeline.wait_until(
            lambda: Run.objects.filter(camera=camera, segments__isnull=False).exclude(pk=run.pk).first(), 60.0,
            "recording resumed")
        gap.refresh_from_db()
        assert gap.end == resumed.started_at
        assert Run.objects.get(pk=run.pk).ended_at == max(s.end for s in Segment.objects.filter(run=run))
        pipeline.stop_all()


def _mailed_subjects(log: str) -> list[str]:
    """The subjects of the mails the console mail backend printed (MIME-encoded when not ASCII)."""
    headers = re.findall(r"^Subject:(.*(?:\n[ \t].*)*)", log, re.M)  # with its folded continuation lines
    return [str(make_header(decode_header(" ".join(header.split())))) for header in headers]
