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
   the loop reconnects with exponential backoff (1 s, 2 s, 4 s … ``SAFECAM_RECONNECT_MAX_SECONDS``);
6. when this host's spool is full (``footage.spool.fill``) ffmpeg is stopped cleanly, the run ends
   with the reason "spool full" (audited), and no new run starts until the spool is back under the
   alert level: the oldest footage not yet stored is kept rather than deleted.

Faults of what the recorder talks to never stop ffmpeg. While the database is unreachable (a
PostgreSQL restart, a failover) the recorder keeps recording into the spool and retries each
second: nobody can take its lease without the database either, so it records alone; the first
renewal that reaches the database again tells it whether it still holds the camera (the
supervisor gives it a lease period after the database starts before it calls a lease lapsed). A segment
whose ingest job cannot be queued (the broker restarting) stays in the spool unmarked, and the
spool sweep queues it once the broker answers. A run whose first segment closed while the
database was down is opened as soon as it answers (or by the spool sweep from ``run.json``).

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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ffmpeg
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections
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
            outcome: RunOutcome | None = None
            while True:
                camera = self._db("read the camera", Camera.objects.get, pk=self.camera_id)
                if camera is None:  # the database is down: try again, still holding the lease
                    if not self._wait(1.0):
                        return "lease lost or shutdown"
                    continue
                if not camera.enabled:
                    self._stopped_disabled()
                    return "disabled"
                if not self._wait_for_spool_room(after_full=outcome is not None
                                                 and outcome.reason == EndReason.SPOOL_FULL):
                    return "lease lost or shutdown"
                outcome = self.run_once(camera)
                if outcome.stop:
                    return outcome.reason
                if outcome.segments:
                    backoff = 1.0
                if outcome.reason == EndReason.SPOOL_FULL:
                    continue  # no reconnect backoff: wait for room, then start at once
                self._db("report the reconnect", health_update, camera_id=self.camera_id,
                         recorder_state="reconnecting", last_error=outcome.detail[:2000])
                if not self._wait(backoff):
                    return "lease lost or shutdown"
                backoff = min(backoff * 2, float(settings.SAFECAM_RECONNECT_MAX_SECONDS))
        finally:
            if self.token is not None:
                self._db("release the lease", services.lease_release, camera_id=self.camera_id, token=self.token)
                self._db("report the stop", health_update, camera_id=self.camera_id, recorder_state="stopped")
                if self.handover_to and self.hand_over is not None:
                    self.hand_over(self.camera_id, self.handover_to)
            close_old_connections()

    def _db(self, what: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(...)``, or None when the database is unreachable (logged once per outage).

        The connection is dropped after a failure so that the next call connects afresh: a
        connection broken by a database restart never works again, and this thread lives for weeks.
        """
        try:
            result = function(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:  # unreachable, not a refused write
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()
            if self._db_down_since is None:
                self._db_down_since = time.monotonic()
                log.error("Camera %s: the database is unreachable (%s: %s); recording goes on into the spool",
                          self.camera_id, what, exc)
            return None
        if self._db_down_since is not None:
            log.warning("Camera %s: the database answers again after %.1f s", self.camera_id,
                        time.monotonic() - self._db_down_since)
            self._db_down_since = None
        return result

    _db_down_since: float | None = None

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

    def _wait_for_spool_room(self, *, after_full: bool) -> bool:
        """Before a new run: while the spool is full (or, after a stop for that, above the alert level),
        wait, beating the lease, until it drains below the alert level; the gap "spool full" stays
        open meanwhile. False when recording must stop."""
        measured = spool.fill(max_age=spool.FILL_CACHE_SECONDS)
        if not (measured.full or (after_full and measured.alerting)):
            return True
        self._spool_full_stop(None, measured)
        while measured.alerting:
            if not self._wait(1.0):
                return False
            measured = spool.fill(max_age=spool.FILL_CACHE_SECONDS)
        log.warning("Camera %s: the spool has room again (%.0f %%); recording resumes", self.camera_id,
                    measured.percent)
        return True

    def _spool_full_stop(self, run: Run | None, measured: spool.SpoolFill) -> None:
        if run is None and self._spool_full_reported:
            return
        ended_at = run.started_at + timedelta(seconds=self._last_end) if run is not None else timezone.now()
        gap = self._db("record the spool-full stop", services.recording_stopped_spool_full, camera_id=self.camera_id,
                       run=run, ended_at=ended_at, host=self.holder, fill=measured)
        # (With the database down too, an open run is ended by the spool sweep once it answers.)
        self._spool_full_reported = gap is not None
        self._db("report the spool-full stop", health_update, camera_id=self.camera_id, recorder_state="spool full")

    _spool_full_reported: bool = False

    def _beat(self) -> str | None:
        """Renew the lease when due: "ok", "lost", "disabled"; None when not due yet, or when the database
        cannot say (retried a second later; recording goes on meanwhile)."""
        now = time.monotonic()
        if now - self.last_beat < settings.SAFECAM_RECORDER_LEASE_SECONDS / 3 or now < self._next_try:
            return None
        renewed = self._db("renew the lease", services.lease_renew, camera_id=self.camera_id, token=self.token)
        if renewed is None:
            self._next_try = time.monotonic() + 1.0
            return None
        self.last_beat = time.monotonic()
        if not renewed:
            self.token = None  # not ours any more: do not release it on the way out
            return "lost"
        enabled = self._db("check the camera", Camera.objects.filter(pk=self.camera_id, enabled=True).exists)
        if enabled is False:
            return "disabled"
        from footage.hosts import handover_target

        self.handover_to = self._db("look for a handover", handover_target, camera_id=self.camera_id,
                                    token=self.token)
        if self.handover_to and self.hand_over is not None:
            return "handover"
        return "ok"

    _next_try: float = 0.0

    def _stopped_disabled(self) -> None:
        self._db("open the gap", services.gap_open, camera_id=self.camera_id, start=timezone.now(),
                 reason=EndReason.CAMERA_DISABLED)
        self._db("report the stop", health_update, camera_id=self.camera_id, recorder_state="stopped")

    # -- one connection -----------------------------------------------------------------------------

    def run_once(self, camera: Camera) -> RunOutcome:
        folder = spool.run_folder_new(str(camera.public_id), f"{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
        lock = spool.RunLock(folder)
        lock.acquire()
        command = ffmpeg_command(camera.stream_url_with_credentials(), folder, settings.SAFECAM_SEGMENT_SECONDS)
        self._db("report connecting", health_update, camera_id=self.camera_id, recorder_state="connecting")
        self.stderr_tail.clear()
        self._last_end = 0.0
        self._anchor = None
        self._unindexed = []
        self._spool_full_reported = False
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
                    elif run is None and self._unindexed:
                        run = self._run_open(camera, folder)
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
            elif stop_reason == EndReason.SPOOL_FULL:
                reason, detail, stop = EndReason.SPOOL_FULL, "", False
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
            if reason == EndReason.SPOOL_FULL:
                self._spool_full_stop(run, spool.fill())
            elif run is not None:
                ended_at = run.started_at + timedelta(seconds=self._last_end)
                # With the database down the run stays open; the spool sweep ends it once it answers.
                self._db("end the run", services.run_end, run=run, ended_at=ended_at, reason=reason, detail=detail)
            elif reason != EndReason.RECORDER_STOPPED:
                self._db("open a gap", services.gap_open, camera_id=self.camera_id, start=timezone.now(),
                         reason=reason, detail=detail)
            if spool.run_folder_is_empty(folder):
                spool.run_folder_remove(folder)
        finally:
            # Only now: a spool sweep that finds the folder unlocked takes its recorder for dead, so it would
            # end the run as "recorder lost" first, or remove the folder while it is being looked at.
            lock.release()
        log.info("Camera %s: run ended (%s) after %d segments: %s", camera.pk, reason, count, detail)
        return RunOutcome(segments=count, stop=stop, reason=reason, detail=detail)

    _last_end: float = 0.0
    _anchor: datetime | None = None
    # Segments closed before the run could be indexed (the database was down): queued once it is.
    _unindexed: list = field(default_factory=list)

    def _segment_closed(self, run: Run | None, camera: Camera, folder: Path, closed: spool.ClosedSegment) -> Run | None:
        path = folder / closed.filename
        # Marked at once: a spool sweep meanwhile would otherwise queue an ingest of its own, which can
        # store and delete the file while the first one is still being probed below.
        spool.mark_queued(path)
        now = timezone.now()
        self._last_end = closed.end
        if run is None:
            if self._anchor is None:
                self._anchor = now - timedelta(seconds=closed.end)
                # Written before the database hears of the run: should it be down until this recorder
                # dies, the spool sweep opens the run from here.
                spool.meta_write(folder, camera_id=camera.pk, started_at=self._anchor.isoformat(),
                                 recorder=self.holder)
            self._unindexed.append(closed)
            run = self._run_open(camera, folder)
            if run is None:
                return None
        else:
            skew = (now - (run.started_at + timedelta(seconds=closed.end))).total_seconds()
            if abs(skew) > abs(run.clock_skew):
                run.clock_skew = round(skew, 3)
                self._db("note the clock skew", Run.objects.filter(pk=run.pk).update, clock_skew=run.clock_skew)
            self._enqueue(run, folder, closed)
        self._db("report the segment", health_update, camera_id=camera.pk, recorder_state="recording", last_error="",
                 last_segment_end=run.started_at + timedelta(seconds=closed.end))
        return run

    def _run_open(self, camera: Camera, folder: Path) -> Run | None:
        """Index the run (its anchor was taken when its first segment closed) and queue what waits."""
        assert self._anchor is not None
        run = self._db("open the run", services.run_open, camera_id=camera.pk, started_at=self._anchor,
                       recorder=self.holder)
        if run is None:
            return None
        spool.meta_write(folder, run_id=run.pk, camera_id=camera.pk, started_at=self._anchor.isoformat(),
                         recorder=self.holder)
        probed = probe_video(folder / self._unindexed[0].filename)
        if probed:
            self._db("note the codec", Run.objects.filter(pk=run.pk).update, **probed)
        for closed in self._unindexed:
            self._enqueue(run, folder, closed)
        self._unindexed = []
        return run

    def _enqueue(self, run: Run, folder: Path, closed: spool.ClosedSegment) -> None:
        path = folder / closed.filename
        try:
            self.enqueue_ingest(run.pk, closed.sequence, str(path), closed.start, closed.end)
        except Exception as exc:  # noqa: BLE001  the broker is down: the file waits, the sweep queues it
            spool.queued_clear(path)
            log.warning("Camera %s: could not queue the ingest of %s (%s); the spool sweep will", self.camera_id,
                        path.name, exc)

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
        if spool.fill(max_age=spool.FILL_CACHE_SECONDS).full:
            return EndReason.SPOOL_FULL
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

