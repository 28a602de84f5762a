"""Playback: viewing sessions, signed links, HLS playlists built from the index, audited delivery.

How a person watches footage
----------------------------
1. The player opens a **viewing session** (``session_open``; API ``POST cameras/{uuid}/playback/``)
   for one camera in one mode: *recorded* (needs the ``playback`` right) or *live* (``live``).
   The session row records who, which camera, from which address and browser, from the first
   request on, so a trace exists before a byte of footage is sent.
2. The session gives the player links under ``/play/<token>/``: ``token`` is the session's id
   signed with the project's secret (``django.core.signing``), so it cannot be forged or guessed.
   Every request on such a link (``session_for_request``) checks, in this order: the signature;
   that the session belongs to the user making the request (a link passed to someone else is
   "not found" for them); that it has not expired (closed, or idle for
   ``SAFECAM_PLAYBACK_IDLE_SECONDS``: *410 Gone* for its owner); and that the user *still* holds
   the right on the camera (a right revoked mid-session stops the next segment). URLs name
   segments by their index id, never by path, and the id must belong to the session's camera, so
   no URL can reach a file outside that camera's segments.
3. **Playlists** are HLS, generated from the segment index for the requested range
   (``playlist_recorded``, at most ``SAFECAM_PLAYLIST_MAX_HOURS``): every segment carries its
   wall-clock time (``EXT-X-PROGRAM-DATE-TIME``), and a gap or a new recording run starts with
   ``EXT-X-DISCONTINUITY`` (within a run the segments share one stream clock). The near-live
   playlist (``playlist_live``) is a sliding window over the newest segments; its media sequence
   counts segments since the session opened, so it is stable across reloads. Each playlist is a
   constant number of queries, whatever the range.
4. **Segments** stream from whichever storage holds them, with HTTP Range support; where the
   storage can issue signed URLs (S3) and ``SAFECAM_PLAYBACK_REDIRECT`` is on, the view answers
   with a redirect to one that expires after ``SAFECAM_SIGNED_URL_SECONDS`` instead. Either way the
   request passed the checks above and was counted on the session.
5. **Audit, aggregated**: the session counts what was served (segments, bytes, thumbnails, the
   footage range) and the player reports, every 15 s, which wall-clock ranges were actually on
   screen. When the session closes (the player's ``closing`` beat, or idle expiry found by the
   beat task ``viewing_sessions_close``) one ``footage.viewed`` audit event is written with the
   span watched, when and from where; a session left open writes one event per
   ``SAFECAM_VIEWING_EVENT_MINUTES``. An hour of viewing is one event, not hundreds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest, Least
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.models import Camera
from footage.models import Segment, SegmentState, ViewingMode, ViewingSession
from safecam.audit import AuditAction, audit_record
from safecam.timeranges import TimeRange

TOKEN_SALT = "safecam.footage.playback"
MODE_ACTION = {ViewingMode.RECORDED: "playback", ViewingMode.LIVE: "live"}
# Most wall-clock ranges kept per session (closest ones merge beyond this).
WATCHED_MAX = 50


class PlaybackRefused(Exception):
    """A playback link that may not be used: ``status`` is 404 (not yours / not there) or 410 (expired)."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


# --- sessions -------------------------------------------------------------------------------------

# Purposes for which a higher app lets someone watch without the site right, and the check it
# makes at every request (``purpose_register``; access_requests registers "access_request").
PURPOSES: dict[str, Callable[[Any, ViewingSession], bool]] = {}


def purpose_register(name: str, check: Callable[[Any, ViewingSession], bool]) -> None:
    """Let ``check(user, session)`` decide whether a session opened for ``name:<id>`` may still be used."""
    PURPOSES[name] = check


def session_open(*, user: Any, camera: Camera, mode: str, ip: str | None = None, user_agent: str = "",
                 purpose: str = "", scope: TimeRange | None = None) -> ViewingSession:
    """Start watching ``camera``. The caller has checked the mode's right through ``restrict()`` or,
    for a ``purpose`` session, through the purpose's own check (which is repeated at every request)."""
    if purpose and purpose.partition(":")[0] not in PURPOSES:
        raise ValueError(f"No check registered for the viewing purpose {purpose!r}")
    now = timezone.now()
    return ViewingSession.objects.create(user=user, camera=camera, mode=ViewingMode(mode), ip=ip or None,
                                         user_agent=user_agent[:300], opened_at=now, last_seen_at=now,
                                         chunk_started_at=now, purpose=purpose,
                                         scope_start=scope.start if scope else None,
                                         scope_end=scope.end if scope else None)


def page_session(*, request: Any, camera: Camera, config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A player's config with its viewing session opened along with the page: the player starts at
    once anyway, and this saves it a round trip before the first frame. A session that serves
    nothing writes no audit event. ``config`` is None when the user may not watch the camera."""
    if config is None:
        return None
    from safecam.audit import request_context

    mode = ViewingMode.LIVE if config["live"] or not config["can_recorded"] else ViewingMode.RECORDED
    session = session_open(user=request.user, camera=camera, mode=mode, ip=request_context.get().ip,
                           user_agent=request.headers.get("User-Agent", ""))
    return {**config, "session": session_links(session)}


def session_token(session: ViewingSession) -> str:
    return signing.dumps(session.public_id.hex, salt=TOKEN_SALT, compress=False)


def session_links(session: ViewingSession) -> dict[str, Any]:
    token = session_token(session)
    links = {
        "session": str(session.public_id),
        "mode": session.mode,
        "playlist": reverse("play-playlist", kwargs={"token": token}),
        "beat": reverse("play-beat", kwargs={"token": token}),
        "thumbnail": reverse("play-thumbnail", kwargs={"token": token, "segment_id": 0}).replace(
            "/0.jpg", "/{segment}.jpg"),
        "idle_seconds": settings.SAFECAM_PLAYBACK_IDLE_SECONDS,
    }
    if session.mode == ViewingMode.LIVE:
        links["live_playlist"] = reverse("play-live", kwargs={"token": token})
    return links


def _expired(session: ViewingSession, now: datetime) -> bool:
    idle = timedelta(seconds=settings.SAFECAM_PLAYBACK_IDLE_SECONDS)
    return session.closed_at is not None or session.last_seen_at < now - idle


def session_for_request(*, token: str, user: Any, action: str | None = None,
                        now: datetime | None = None) -> ViewingSession:
    """The session behind a ``/play/<token>/`` link, if ``user`` may use it now; else PlaybackRefused."""
    now = now or timezone.now()
    not_found = _("This playback link does not exist or is not yours.")
    try:
        public_id = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        raise PlaybackRefused(not_found) from None
    if user is None or not user.is_authenticated:
        raise PlaybackRefused(not_found)
    session = (ViewingSession.objects.select_related("camera", "camera__site")
               .filter(public_id=public_id, user_id=user.pk).first())
    if session is None:
        raise PlaybackRefused(not_found)
    if _expired(session, now):
        raise PlaybackRefused(_("This playback link has expired. Reload the page to keep watching."), status=410)
    if session.purpose:
        check = PURPOSES.get(session.purpose.partition(":")[0])
        if check is None or action not in (None, "playback") or not check(user, session):
            raise PlaybackRefused(not_found)
        return session
    needed = action or MODE_ACTION[ViewingMode(session.mode)]
    if not Camera.objects.restrict(user, needed).filter(pk=session.camera_id).exists():
        raise PlaybackRefused(not_found)
    return session


def session_scope(session: ViewingSession, window: TimeRange) -> TimeRange | None:
    """``window`` confined to what the session may reach (None when nothing of it)."""
    if session.scope_start is None or session.scope_end is None:
        return window
    start, end = max(window.start, session.scope_start), min(window.end, session.scope_end)
    return TimeRange(start, end) if end > start else None


def session_touch(session: ViewingSession, *, now: datetime | None = None, segment: Segment | None = None,
                  nbytes: int = 0, thumbnail: bool = False) -> None:
    """Count a request on the session (one UPDATE; concurrent requests add up correctly)."""
    now = now or timezone.now()
    fields: dict[str, Any] = {"last_seen_at": Greatest(F("last_seen_at"), now)}
    if segment is not None:
        fields.update(segments_served=F("segments_served") + 1, bytes_served=F("bytes_served") + nbytes,
                      served_from=Least(Coalesce(F("served_from"), segment.start), segment.start),
                      served_to=Greatest(Coalesce(F("served_to"), segment.end), segment.end))
    if thumbnail:
        fields.update(thumbnails_served=F("thumbnails_served") + 1, bytes_served=F("bytes_served") + nbytes)
    ViewingSession.objects.filter(pk=session.pk).update(**fields)


# --- what was watched -----------------------------------------------------------------------------

class BeatError(ValueError):
    """A heartbeat the player should not have sent (malformed ranges)."""


def watched_parse(raw: Any) -> list[tuple[datetime, datetime]]:
    """``[[start, end], ...]`` (ISO 8601) from the player, validated: at most 100 ranges of ≤ 1 day."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > 100:
        raise BeatError(_("'watched' must be a list of at most 100 [start, end] pairs."))
    ranges = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) != 2 or not all(isinstance(v, str) for v in item):
            raise BeatError(_("Each watched range must be a pair of ISO 8601 times."))
        start, end = (_iso(value) for value in item)
        if start is None or end is None or end < start or end - start > timedelta(days=1):
            raise BeatError(_("Each watched range must be two ISO 8601 times with a time zone, end after "
                              "start, at most one day apart."))
        ranges.append((start, end))
    return ranges


def _iso(value: str) -> datetime | None:
    if len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def watched_merge(existing: list[list[str]], new: list[tuple[datetime, datetime]]) -> list[list[str]]:
    """Union of wall-clock ranges (touching within a second merge), at most ``WATCHED_MAX`` kept."""
    ranges = [(_iso(a), _iso(b)) for a, b in existing] + list(new)
    ranges = sorted((a, b) for a, b in ranges if a is not None and b is not None)
    merged: list[list[datetime]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1] + timedelta(seconds=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    while len(merged) > WATCHED_MAX:  # join the two ranges with the smallest gap between them
        i = min(range(len(merged) - 1), key=lambda k: merged[k + 1][0] - merged[k][1])
        merged[i:i + 2] = [[merged[i][0], merged[i + 1][1]]]
    return [[_z(a), _z(b)] for a, b in merged]


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_beat(*, session: ViewingSession, watched: list[tuple[datetime, datetime]], closing: bool = False,
                 now: datetime | None = None) -> None:
    """The player's report of what was on screen; ``closing`` ends the session (one audit event)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = ViewingSession.objects.select_for_update().get(pk=session.pk)
        locked.watched = watched_merge(locked.watched, watched)
        locked.last_seen_at = max(locked.last_seen_at, now)
        locked.save(update_fields=["watched", "last_seen_at"])
        if closing:
            _close(locked, now)
        elif now - locked.chunk_started_at >= timedelta(minutes=settings.SAFECAM_VIEWING_EVENT_MINUTES):
            _flush(locked, now)


def sessions_close_idle(*, now: datetime | None = None) -> int:
    """Close sessions idle past the limit and write the hourly event of long ones; returns events written."""
    now = now or timezone.now()
    idle = now - timedelta(seconds=settings.SAFECAM_PLAYBACK_IDLE_SECONDS)
    stretch = now - timedelta(minutes=settings.SAFECAM_VIEWING_EVENT_MINUTES)
    due = (ViewingSession.objects.filter(closed_at__isnull=True)
           .filter(Q(last_seen_at__lt=idle) | Q(chunk_started_at__lt=stretch)).values_list("pk", flat=True))
    written = 0
    for pk in list(due[:1000]):
        with transaction.atomic():
            session = ViewingSession.objects.select_for_update(skip_locked=True).filter(
                pk=pk, closed_at__isnull=True).first()
            if session is None:
                continue
            if session.last_seen_at < idle:
                written += _close(session, session.last_seen_at)
            else:
                written += _flush(session, now)
    return written


def _close(session: ViewingSession, at: datetime) -> int:
    written = _flush(session, at)
    session.closed_at = at
    session.save(update_fields=["closed_at"])
    return written


def _flush(session: ViewingSession, at: datetime) -> int:
    """Write the audit event for the stretch since ``chunk_started_at`` (if anything was served) and
    start the next stretch. Runs inside the caller's transaction holding the row lock."""
    written = 0
    if session.segments_served or session.thumbnails_served or session.watched:
        audit_record(action=AuditAction.FOOTAGE_VIEWED, actor=session.user, target=session.camera,
                     ip=session.ip or "", details=viewing_details(session, until=at))
        written = 1
    session.chunk_started_at = at
    session.segments_served = session.thumbnails_served = session.bytes_served = 0
    session.served_from = session.served_to = None
    session.watched = []
    session.events_written += written
    session.save(update_fields=["chunk_started_at", "segments_served", "thumbnails_served", "bytes_served",
                                "served_from", "served_to", "watched", "events_written"])
    return written


def viewing_details(session: ViewingSession, *, until: datetime) -> dict[str, Any]:
    """What the DPO reads in the trail: who (the actor), which camera, which footage, when, from where."""
    watched = session.watched
    footage_from = watched[0][0] if watched else (session.served_from and _z(session.served_from))
    footage_to = watched[-1][1] if watched else (session.served_to and _z(session.served_to))
    seconds = sum((_iso(b) - _iso(a)).total_seconds() for a, b in watched)  # type: ignore[operator]
    return {
        "session": str(session.public_id), "mode": session.mode, "camera": str(session.camera.public_id),
        "camera_name": session.camera.name, "site": session.camera.site.slug,
        "viewing_from": _z(session.chunk_started_at), "viewing_to": _z(max(until, session.chunk_started_at)),
        "footage_from": footage_from, "footage_to": footage_to, "watched": watched,
        "watched_seconds": round(seconds, 1),
        "segments": session.segments_served, "bytes": session.bytes_served,
        "thumbnails": session.thumbnails_served, "user_agent": session.user_agent,
        **({"purpose": session.purpose} if session.purpose else {}),
    }


# --- playlists ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    pk: int
    start: datetime
    end: datetime
    duration: float
    run_id: int


def _entries(rows: Any) -> list[_Entry]:
    return [_Entry(*row) for row in rows]


def _segments(camera_id: int) -> Any:
    return (Segment.objects.filter(camera_id=camera_id, state=SegmentState.STORED)
            .values_list("pk", "start", "end", "duration", "run_id"))


def _lines(entries: list[_Entry], *, first_discontinuity: bool = False) -> Iterator[str]:
    previous: _Entry | None = None
    for entry in entries:
        if previous is not None and (entry.run_id != previous.run_id
                                     or (entry.start - previous.end).total_seconds() > 0.5):
            yield "#EXT-X-DISCONTINUITY"
        elif previous is None and first_discontinuity:
            yield "#EXT-X-DISCONTINUITY"
        yield f"#EXT-X-PROGRAM-DATE-TIME:{_z(entry.start)}"
        yield f"#EXTINF:{entry.duration:.3f},"
        yield f"seg/{entry.pk}.ts"
        previous = entry


def _target(entries: list[_Entry]) -> int:
    return max([settings.SAFECAM_SEGMENT_SECONDS] + [math.ceil(e.duration) for e in entries])


def playlist_recorded(session: ViewingSession, window: TimeRange) -> str:
    """A VOD playlist of the session's camera for ``window`` (one query)."""
    scoped = session_scope(session, window)
    entries = [] if scoped is None else _entries(
        _segments(session.camera_id).overlapping(scoped.start, scoped.end).order_by("start"))
    head = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{_target(entries)}",
            "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    return "\n".join([*head, *_lines(entries), "#EXT-X-ENDLIST", ""])


def live_origin(session: ViewingSession) -> datetime:
    """Segments starting from here on are the near-live session's (older ones need the playback right)."""
    margin = (settings.SAFECAM_LIVE_PLAYLIST_SEGMENTS + 2) * settings.SAFECAM_SEGMENT_SECONDS * 2
    return session.opened_at - timedelta(seconds=margin)


def playlist_live(session: ViewingSession) -> str:
    """A sliding live playlist of the newest segments (one query).

    Media and discontinuity sequence numbers count from the session's origin, so each reload
    numbers the same segment the same way, as HLS requires.
    """
    entries = _entries(_segments(session.camera_id).filter(start__gte=live_origin(session)).order_by("start"))
    keep = settings.SAFECAM_LIVE_PLAYLIST_SEGMENTS
    first = max(0, len(entries) - keep)
    discontinuities = sum(
        1 for a, b in zip(entries[:first], entries[1:first + 1], strict=False)
        if b.run_id != a.run_id or (b.start - a.end).total_seconds() > 0.5)
    window = entries[first:]
    starts_after_break = bool(first and window and (window[0].run_id != entries[first - 1].run_id or (
        window[0].start - entries[first - 1].end).total_seconds() > 0.5))
    head = ["#EXTM3U", "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{_target(entries)}",
            f"#EXT-X-MEDIA-SEQUENCE:{first}", f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuities - starts_after_break}"]
    return "\n".join([*head, *_lines(window, first_discontinuity=starts_after_break), ""])


# --- segments and pictures ------------------------------------------------------------------------

def segment_for_session(session: ViewingSession, segment_id: int, *, user: Any) -> Segment:
    """A stored segment of the session's camera; a near-live session reaches older footage only
    with the playback right too."""
    segment = Segment.objects.filter(pk=segment_id, camera_id=session.camera_id, state=SegmentState.STORED).first()
    if segment is None or session_scope(session, TimeRange(segment.start, segment.end)) is None:
        raise PlaybackRefused(_("No such segment in this camera's footage."))
    if session.mode == ViewingMode.LIVE and segment.start < live_origin(session):
        if not Camera.objects.restrict(user, "playback").filter(pk=session.camera_id).exists():
            raise PlaybackRefused(_("No such segment in this camera's footage."))
    return segment


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ValueError):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range ``[first, last]`` a ``Range`` header asks for, None for the whole file.

    Only single ranges (what players send); several ranges or a malformed header are ignored and
    the whole file is sent, as RFC 9110 allows. A range beyond the end raises RangeNotSatisfiable.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_s, last_s = match.groups()
    if first_s == "":  # suffix: the last N bytes
        length = int(last_s)
        if length == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size - 1
    first = int(first_s)
    last = min(int(last_s), size - 1) if last_s else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable
    return first, last


def storage_signed_url(storage: Any, name: str) -> str | None:
    """A short-lived signed URL for ``name`` when the storage issues them (S3) and it is enabled."""
    if not settings.SAFECAM_PLAYBACK_REDIRECT or not getattr(storage, "querystring_auth", False):
        return None
    return storage.url(name, expire=settings.SAFECAM_SIGNED_URL_SECONDS)


# --- still frames ---------------------------------------------------------------------------------

class StillError(ValueError):
    """No picture can be taken at that moment (nothing recorded, or the segment cannot be decoded)."""


def segment_at(camera: Camera, at: datetime) -> Segment | None:
    return (Segment.objects.filter(camera=camera, state=SegmentState.STORED)
            .overlapping(at, at + timedelta(microseconds=1))
            .order_by("-start").first())


def frame_jpeg(segment: Segment, offset: float) -> bytes:
    """The frame ``offset`` seconds into ``segment`` as a JPEG, decoded by ffmpeg (no shell; the
    segment is piped from whichever storage holds it)."""
    import ffmpeg  # ffmpeg-python

    from footage.services import footage_storage

    with footage_storage().open(segment.storage_name, "rb") as handle:
        data = handle.read()
    stream = ffmpeg.input("pipe:0", f="mpegts").output("pipe:1", ss=f"{max(0.0, offset):.3f}", vframes=1,
                                                       f="image2", vcodec="mjpeg", **{"q:v": 2})
    try:
        out, _err = stream.global_args("-nostdin", "-hide_banner", "-loglevel", "error").run(
            input=data, capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        raise StillError(_("The recorded segment could not be decoded: %(error)s")
                         % {"error": exc.stderr.decode(errors="replace")[-300:]}) from None
    if not out:
        raise StillError(_("There is no picture at that moment in the recording."))
    return out


def still_export(*, camera: Camera, at: datetime, by: Any) -> bytes:
    """The frame on screen at ``at`` as a JPEG, audited as footage leaving the server."""
    segment = segment_at(camera, at)
    if segment is None:
        raise StillError(_("Nothing was recorded at that moment."))
    image = frame_jpeg(segment, (at - segment.start).total_seconds())
    audit_record(action=AuditAction.STILL_EXPORTED, actor=by, target=camera,
                 details={"camera": str(camera.public_id), "camera_name": camera.name, "at": _z(at),
                          "segment_sha256": segment.sha256, "bytes": len(image)})
    return image
