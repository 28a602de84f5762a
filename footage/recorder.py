"""The recorder: one long-running loop per camera, driving ffmpeg with stream copy.

``CameraRecorder.record()`` is what the Celery task ``footage.tasks.camera_record`` runs, in a thread
of a worker consuming the ``recording`` queue. The loop:

1. takes the camera's lease (``footage.services.lease_acquire``); if another worker holds a live
   lease it returns at once, so however many workers and duplicate tasks exist, one records;
2. starts ffmpeg (built with ffmpeg-python) copying the camera's H.264 into segments in a fresh
   spool folder, never straight onto a network share;
3. follows ffmpeg's own segment list: each line appears the moment a segment closes and gives its
   start and end in stream seconds, so no segment needs an ffprobe (the first one is probed once
   for codec and resolution). Each closed segment becomes an ingest job on this worker's own
   queue (the file is on this host's disk);
4. beats the lease every third of its lifetime. A lost lease (another worker took over) stops
   ffmpeg at once; a disabled camera stops it cleanly; a worker shutdown stops it cleanly; so does
   a handover the supervisor asked for (``footage.hosts``: the cameras spread over the recording
   hosts), after which the lease is released and the camera queued on the other host;
5. when ffmpeg ends by itself the camera was lost: the run ends with that reason, a gap opens, and
   the loop reconnects with exponential backoff (1 s, 2 s, 4 s … ``SAFECAM_RECONNECT_MAX_SECONDS``).

Why MPEG-TS segments rather than fragmented MP4: each ``.ts`` file stands alone (no init segment),
so a file cut short by a crash or a power cut is still playable up to its last packet and can be
recovered by the spool sweep; HLS players (hls.js) play TS directly; and the format carries H.264
and H.265 from any camera without per-codec set-up. fMP4 saves ~5 % in size, not worth that.

Why segments of ``SAFECAM_SEGMENT_SECONDS`` (10 s by default, ≤ 10): short enough that a damaged
file or an interrupted upload costs seconds, long enough that 24 cameras make ~2.4 index rows per
second. ffmpeg cuts at the first keyframe after the target, so lengths follow the camera's GOP.

Audio is not recorded (``-an``): recording conversations in public space needs a legal basis the
municipality's CCTV purpose does not give.

Wall-clock time of a segment: the stream clock says where a segment lies within the run; the run's
anchor (the wall time of stream second 0) is taken when the first segment closes, as
"now − its end". Every later segment's lateness against that anchor is the camera clock's skew,
kept on the run (``Run.clock_skew``) so drift is visible.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import ffmpeg
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from cameras.models import Camera
from cameras.services import health_update
from footage import services, spool
from footage.models import EndReason, Run

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
# ffmpeg gives up on a camera that sends nothing for this long (RTSP socket timeout).
STALL_SECONDS = 5

# Set by the worker's shutdown hook: every recorder in the process stops ffmpeg cleanly.
shutting_down = threading.Event()

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """ffmpeg gets SIGTERM if its worker dies (kill -9), so no orphan keeps recording."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def ffmpeg_command(url: str, folder: Path, segment_seconds: int) -> list[str]:
    """The ffmpeg command line: RTSP over TCP in, stream copy out, segments and their list."""
    input_options: dict[str, object] = {}
    if url.startswith(("rtsp://", "rtsps://")):
        # TCP: no lost UDP packets on a busy link. A camera that sends nothing for STALL_SECONDS
        # is lost (microseconds). Short probing: the SDP already describes the stream.
        input_options = {"rtsp_transport": "tcp", "timeout": STALL_SECONDS * 1_000_000,
                         "analyzeduration": 1_000_000, "probesize": 500_000}
    stream = ffmpeg.input(url, **input_options)
    # flush_packets: each packet reaches the segment file as it arrives. Otherwise a low-bitrate segment
    # sits in a 32 KB buffer, and when ffmpeg dies or stops without listing its open segment (5.1 often
    # does not list it even on SIGINT) the file is empty and the spool sweep has nothing to recover.
    output = ffmpeg.output(
        stream.video, str(folder / "%06d.ts"),
        c="copy", f="segment", segment_time=segment_seconds, segment_format="mpegts",
        segment_format_options="flush_packets=1",
        reset_timestamps=0, segment_list=str(folder / spool.CSV_NAME), segment_list_type="csv",
        segment_list_flags="live", an=None,
    )
    return ffmpeg.compile(output.global_args("-nostdin", "-hide_banner", "-loglevel", "error"), cmd="ffmpeg",
                          overwrite_output=True)


def probe_video(path: Path) -> dict[str, object]:
    """Codec and frame size of a run, from its first segment (once per run)."""
    try:
        info = ffmpeg.probe(str(path), select_streams="v:0", show_entries="stream=codec_name,width,height")
        stream = info["streams"][0]
        return {"video_codec": stream.get("codec_name", ""), "width": stream.get("width"),
                "height": stream.get("height")}
    except (ffmpeg.Error, IndexError, KeyError, FileNotFoundError) as exc:
        log.warning("Could not probe %s: %s", path, exc)
        return {}


@dataclass
class RunOutcome:
    segments: int = 0
    stop: bool = False  # True: leave the loop (disabled, lease lost, shutdown); False: reconnect
    reason: str = ""
    detail: str = ""


@dataclass
class CameraRecorder:
    """Records one camera for as long as this worker holds its lease."""

    camera_id: int
    holder: str
    # How ingest jobs are queued; the task passes one that targets this worker's own queue.
    enqueue_ingest: Callable[[int, int, str, float, float], None]
    # How a camera is queued on another host when the supervisor asks for a handover.
    hand_over: Callable[[int, str], None] | None = None
    token: uuid.UUID | None = None
    handover_to: str = ""
    last_beat: float = 0.0
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=20))

    # -- the loop ---------------------------------------------------------------------------------

    def record(self) -> str:
        self.token = services.lease_acquire(camera_id=self.camera_id, holder=self.holder)
        if self.token is None:
            return "held elsewhere"
        self.last_beat = time.monotonic()
        try:
            services.runs_dangling_close(camera_id=self.camera_id)
            backoff = 1.0
            while True:
                camera = Camera.objects.get(pk=self.camera_id)
                if not camera.enabled:
                    self._stopped_disabled()
                    return "disabled"
                outcome = self.run_once(camera)
                if outcome.stop:
                    return outcome.reason
                if outcome.segments:
                    backoff = 1.0
                health_update(camera_id=self.camera_id, recorder_state="reconnecting",
                              last_error=outcome.detail[:2000])
                if not self._wait(backoff):
                    return "lease lost or shutdown"
                backoff = min(backoff * 2, float(settings.SAFECAM_RECONNECT_MAX_SECONDS))
        finally:
            if self.token is not None:
                services.lease_release(camera_id=self.camera_id, token=self.token)
                health_update(camera_id=self.camera_id, recorder_state="stopped")
                if self.handover_to and self.hand_over is not None:
                    self.hand_over(self.camera_id, self.handover_to)
            close_old_connections()

    def _wait(self, seconds: float) -> bool:
        """Sleep between attempts, still beating the lease; False when recording must stop."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if shutting_down.is_set():
                return False
            beat = self._beat()
            if beat is not None and beat != "ok":
                return False
            time.sleep(min(POLL_SECONDS * 2, max(0.0, deadline - time.monotonic())))
        return True

    def _beat(self) -> str | None:
        """Renew the lease when due: "ok", "lost", "disabled", "handover"; None when not due yet."""
        if time.monotonic() - self.last_beat < settings.SAFECAM_RECORDER_LEASE_SECONDS / 3:
            return None
        self.last_beat = time.monotonic()
        if not services.lease_renew(camera_id=self.camera_id, token=self.token):
            self.token = None  # not ours any more: do not release it on the way out
            return "lost"
        if not Camera.objects.filter(pk=self.camera_id, enabled=True).exists():
            return "disabled"
        from footage.hosts import handover_target

        self.handover_to = handover_target(camera_id=self.camera_id, token=self.token)
        if self.handover_to and self.hand_over is not None:
            return "handover"
        return "ok"

    def _stopped_disabled(self) -> None:
        services.gap_open(camera_id=self.camera_id, start=timezone.now(), reason=EndReason.CAMERA_DISABLED)
        health_update(camera_id=self.camera_id, recorder_state="stopped")

    # -- one connection -----------------------------------------------------------------------------

    def run_once(self, camera: Camera) -> RunOutcome:
        folder = spool.run_folder_new(str(camera.public_id), f"{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
        lock = spool.RunLock(folder)
        lock.acquire()
        command = ffmpeg_command(camera.stream_url_with_credentials(), folder, settings.SAFECAM_SEGMENT_SECONDS)
        health_update(camera_id=self.camera_id, recorder_state="connecting")
        self.stderr_tail.clear()
        self._last_end = 0.0
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        except OSError as exc:
            lock.release()
            spool.run_folder_remove(folder)
            return RunOutcome(reason=EndReason.ERROR, detail=f"ffmpeg could not start: {exc}")
        reader = threading.Thread(target=self._drain_stderr, args=(process,), daemon=True)
        reader.start()
        segments = spool.SegmentListReader(folder / spool.CSV_NAME)
        run: Run | None = None
        count = 0
        stop_reason = ""
        try:
            try:
                while True:
                    exited = process.poll() is not None
                    for closed in segments.new_segments():
                        run = self._segment_closed(run, camera, folder, closed)
                        count += 1
                    if exited:
                        break
                    if not stop_reason:
                        stop_reason = self._should_stop()
                        if stop_reason:
                            self._stop_ffmpeg(process)
                    time.sleep(POLL_SECONDS)
                reader.join(timeout=2)
                for closed in segments.new_segments():  # the last segment closes as ffmpeg exits
                    run = self._segment_closed(run, camera, folder, closed)
                    count += 1
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            error_text = " ".join(line for line in self.stderr_tail if line).strip()
            if stop_reason == "disabled":
                reason, detail, stop = EndReason.CAMERA_DISABLED, "", True
            elif stop_reason:
                reason, stop = EndReason.RECORDER_STOPPED, True
                if self.token is None:
                    detail = "Another recorder took over this camera."
                elif stop_reason == "handover":
                    detail = f"Handed over to {self.handover_to} to spread the cameras over the recording hosts."
                else:
                    detail = "The recording worker was shut down."
            elif count:
                reason, stop = EndReason.CAMERA_LOST, False
                detail = error_text or "The camera stopped sending video."
            else:
                reason, stop = EndReason.CAMERA_UNREACHABLE, False
                detail = error_text or f"ffmpeg exited with code {process.returncode} before any video arrived."
            detail = _redact(detail, camera)
            if run is not None and shutting_down.is_set():
                self._drain(run, folder)
            if run is not None:
                ended_at = run.started_at + timedelta(seconds=self._last_end)
                services.run_end(run=run, ended_at=ended_at, reason=reason, detail=detail)
            elif reason != EndReason.RECORDER_STOPPED:
                services.gap_open(camera_id=self.camera_id, start=timezone.now(), reason=reason, detail=detail)
            if spool.run_folder_is_empty(folder):
                spool.run_folder_remove(folder)
        finally:
            # Only now: a spool sweep that finds the folder unlocked takes its recorder for dead, so it would
            # end the run as "recorder lost" first, or remove the folder while it is being looked at.
            lock.release()
        log.info("Camera %s: run ended (%s) after %d segments: %s", camera.pk, reason, count, detail)
        return RunOutcome(segments=count, stop=stop, reason=reason, detail=detail)

    _last_end: float = 0.0

    def _segment_closed(self, run: Run | None, camera: Camera, folder: Path, closed: spool.ClosedSegment) -> Run:
        path = folder / closed.filename
        # Marked at once: a spool sweep meanwhile would otherwise queue an ingest of its own, which can
        # store and delete the file while the first one is still being probed below.
        spool.mark_queued(path)
        now = timezone.now()
        if run is None:
            anchor = now - timedelta(seconds=closed.end)
            run = services.run_open(camera_id=camera.pk, started_at=anchor, recorder=self.holder)
            spool.meta_write(folder, run_id=run.pk, camera_id=camera.pk)
            probed = probe_video(folder / closed.filename)
            if probed:
                Run.objects.filter(pk=run.pk).update(**probed)
        else:
            skew = (now - (run.started_at + timedelta(seconds=closed.end))).total_seconds()
            if abs(skew) > abs(run.clock_skew):
                run.clock_skew = round(skew, 3)
                Run.objects.filter(pk=run.pk).update(clock_skew=run.clock_skew)
        self._last_end = closed.end
        self.enqueue_ingest(run.pk, closed.sequence, str(path), closed.start, closed.end)
        health_update(camera_id=camera.pk, recorder_state="recording", last_error="",
                      last_segment_end=run.started_at + timedelta(seconds=closed.end))
        return run

    @staticmethod
    def _drain(run: Run, folder: Path) -> None:
        """The worker is going down: store the run's closed segments still in the spool now.

        Their jobs wait on this worker's own queue, which nobody consumes until it comes back (on
        another machine nobody else can read this disk). A warm shutdown waits for this task, so a
        clean stop leaves nothing behind; a job that runs meanwhile finds the segment indexed.
        """
        for closed in spool.closed_segments(folder):
            path = folder / closed.filename
            if not path.exists():
                continue
            try:
                result = services.segment_ingest(run_id=run.pk, sequence=closed.sequence, path=path,
                                                 start_offset=closed.start, end_offset=closed.end)
            except Exception:  # noqa: BLE001  it stays in the spool; the sweep at the next start queues it
                log.exception("Could not store %s at shutdown", path)
                continue
            if result.outcome == "waiting":  # storage down: it waits in the spool for the next sweep
                spool.queued_clear(path)
                break

    def _should_stop(self) -> str:
        if shutting_down.is_set():
            return EndReason.RECORDER_STOPPED
        beat = self._beat()
        if beat == "lost":
            return EndReason.RECORDER_STOPPED
        if beat in ("disabled", "handover"):
            return beat
        return ""

    @staticmethod
    def _stop_ffmpeg(process: subprocess.Popen) -> None:
        """SIGINT lets ffmpeg close the open segment and list it (it takes well under a second)."""
        if process.poll() is None:
            process.send_signal(signal.SIGINT)

    def _drain_stderr(self, process: subprocess.Popen) -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            self.stderr_tail.append(raw.decode("utf-8", "replace").strip())


def _redact(text: str, camera: Camera) -> str:
    """ffmpeg quotes the URL it was given, credentials included: keep only the clean URL."""
    with_credentials = camera.stream_url_with_credentials()
    if with_credentials != camera.stream_url:
        text = text.replace(with_credentials, camera.stream_url)
    return text


def recorder_holder(nodename: str) -> str:
    return nodename or f"{socket.gethostname()}:{os.getpid()}"

