"""Several recording hosts: which are up, which one records which camera, and each one's own spool.

A recording host is a Celery worker consuming the ``recording`` queue (``recorder@<host>``), with
its spool on its own disk. Several of them share PostgreSQL, the broker and the storage server;
the camera leases (``RecorderLease``) stay the only arbiter of who records a camera. This module
adds what makes the cameras *spread* over the hosts and lets each host look after its spool.

Membership. Every recording worker runs a ``HostAgent`` thread (started by ``footage.signals``
when the worker is ready). It writes its ``RecorderHost`` row every ``host_beat_seconds()``
(a sixth of the lease); a host counts as *up* while its row was written within
``host_ttl()`` (half the lease). Why half: a recorder renews its camera's lease every third of
the lease, so when a host dies its cameras' leases lapse between 2/3 and 1 lease later, while the
host itself stops counting as up at most 1/2 lease after it died. The supervisor thus never hands
a camera whose lease has just lapsed back to the host that died with it. On a clean shutdown the
agent deletes its row before the recorders release their leases, for the same reason.

Assignment. The supervisor (``recording_supervise``, every ``SAFECAM_SUPERVISE_SECONDS``) queues
each camera with no live lease on the direct queue (Celery's ``worker_direct``) of the up host
holding the fewest live leases, counting the ones it assigns in the same pass; ties go by name.
With no host up yet it uses the shared ``recording`` queue, as a single worker did before. A task
that reaches a host after someone else took the camera finds the lease held and ends at once.
So when a host dies its cameras are recorded elsewhere within ``SAFECAM_RECORDER_LEASE_SECONDS``
(the leases lapse) plus one supervise interval (the next pass queues them), plus the seconds
ffmpeg needs to connect and close the first segment.

Rebalancing. A host that starts after the others (or comes back after a failure) holds nothing,
and lapsed leases alone would never give it work. When an up host holds at least two cameras more
than another, the supervisor marks leases of the busiest host with ``handover_to`` (the least busy
host), until they are within one of each other. The holder sees the mark at its next heartbeat
(within a third of the lease), stops ffmpeg cleanly (the open segment closes and is ingested),
releases the lease and queues the camera on the new host's direct queue. Each handover costs that
camera a gap of a few seconds, recorded as "recorder stopped" with the reason; it happens only when
the set of hosts changes. The result is within one camera of even: 24 cameras on two hosts 12/12.

Spools. Only a host can read its own spool, so its agent sweeps it every supervise interval
(``supervise.spool_sweep``: lost ingest jobs re-queued, dead runs' folders recovered) and probes
an unreachable storage server, queuing ingest jobs on its own direct queue. When a host dies, the
segments that were closed (or open) in its spool wait on its disk: the camera's run is ended at
the last second known (``services.runs_dangling_close``) and a "recorder lost" gap follows it.
When the host comes back, its start-up sweep (``footage.signals``) stores them; each one extends
the dead run and shortens the gap, so nothing closed there is lost, only delayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from footage.models import RecorderHost, RecorderLease

log = logging.getLogger(__name__)

RECORDING_QUEUE = "recording"


def host_beat_seconds() -> float:
    return min(settings.SAFECAM_RECORDER_LEASE_SECONDS / 6, float(settings.SAFECAM_SUPERVISE_SECONDS))


def host_ttl() -> timedelta:
    return timedelta(seconds=settings.SAFECAM_RECORDER_LEASE_SECONDS / 2)


def host_beat(name: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if not RecorderHost.objects.filter(name=name).update(seen_at=now):
        RecorderHost.objects.update_or_create(name=name, defaults={"seen_at": now},
                                              create_defaults={"seen_at": now, "started_at": now})


def host_leave(name: str) -> None:
    RecorderHost.objects.filter(name=name).delete()


def hosts_up(now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    return list(RecorderHost.objects.filter(seen_at__gt=now - host_ttl()).order_by("name")
                .values_list("name", flat=True))


def _loads(up: list[str], now: datetime) -> Counter:
    """Live leases per up host; a lease being handed over counts for the host it goes to."""
    load: Counter = Counter({name: 0 for name in up})
    for holder, handover_to in RecorderLease.objects.filter(holder__in=up, expires_at__gt=now).values_list(
            "holder", "handover_to"):
        load[handover_to if handover_to in load else holder] += 1
    return load


def recorders_assign(camera_ids: list[int], now: datetime | None = None) -> list[tuple[int, str]]:
    """The host each camera goes to: the up host with the fewest cameras ("" when no host is up)."""
    now = now or timezone.now()
    up = hosts_up(now)
    if not up:
        return [(camera_id, "") for camera_id in camera_ids]
    load = _loads(up, now)
    assigned = []
    for camera_id in camera_ids:
        target = min(up, key=lambda name: (load[name], name))
        load[target] += 1
        assigned.append((camera_id, target))
    return assigned


def rebalance(now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Ask the busiest hosts to hand cameras to the idlest until no two differ by more than one.

    Returns (camera, from, to) for each handover requested.
    """
    now = now or timezone.now()
    up = hosts_up(now)
    if len(up) < 2:
        return []
    load = _loads(up, now)
    requested = []
    while True:
        busiest = max(up, key=lambda name: (load[name], name))
        idlest = min(up, key=lambda name: (load[name], name))
        if load[busiest] - load[idlest] < 2:
            break
        lease = (RecorderLease.objects.filter(holder=busiest, expires_at__gt=now, handover_to="")
                 .order_by("camera_id").first())
        if lease is None:
            break
        if RecorderLease.objects.filter(pk=lease.pk, token=lease.token, handover_to="").update(handover_to=idlest):
            requested.append((lease.camera_id, busiest, idlest))
            log.info("Camera %s: asking %s to hand it over to %s", lease.camera_id, busiest, idlest)
        load[busiest] -= 1
        load[idlest] += 1
    return requested


def handover_target(*, camera_id: int, token: object) -> str:
    """The host this recorder was asked to hand its camera to ("" when none)."""
    return RecorderLease.objects.filter(camera_id=camera_id, token=token).values_list(
        "handover_to", flat=True).first() or ""


# --- the agent thread of a recording worker ---------------------------------------------------------


class HostAgent(threading.Thread):
    """Keeps a recording host's row alive and sweeps the host's own spool."""

    def __init__(self, name: str, enqueue: Callable[[int, int, str, float, float], None]) -> None:
        super().__init__(name=f"safecam-host-agent-{name}", daemon=True)
        self.host = name
        self.enqueue = enqueue
        self.stopping = threading.Event()

    def run(self) -> None:
        from footage import supervise

        last_sweep = time.monotonic()  # the start-up sweep just ran (footage.signals)
        while not self.stopping.wait(host_beat_seconds()):
            try:
                host_beat(self.host)
                if time.monotonic() - last_sweep >= settings.SAFECAM_SUPERVISE_SECONDS:
                    last_sweep = time.monotonic()
                    supervise.storage_check(enqueue=self.enqueue)
                    supervise.spool_sweep(enqueue=self.enqueue)
            except Exception:  # noqa: BLE001  the database may be away for a moment; beat again next time
                log.exception("Recording host %s: heartbeat or spool sweep failed", self.host)
            finally:
                close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
        try:
            host_leave(self.host)
        except Exception:  # noqa: BLE001  the row then lapses by itself within host_ttl()
            log.exception("Recording host %s could not sign off", self.host)


_agent: HostAgent | None = None


def agent_start(name: str, enqueue: Callable[[int, int, str, float, float], None]) -> HostAgent:
    global _agent
    host_beat(name)
    _agent = HostAgent(name, enqueue)
    _agent.start()
    log.info("Recording host %s is up", name)
    return _agent


def agent_stop() -> None:
    if _agent is not None:
        _agent.stop()
