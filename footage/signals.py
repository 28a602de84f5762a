"""Worker life-cycle hooks.

* On shutdown (Ctrl-C, SIGTERM, deploy) every recorder in the process stops ffmpeg with SIGINT, so
  each open segment is closed and listed, and runs end with "recorder stopped", not a crash.
* On start-up a worker sweeps this host's spool: segments a previous worker left behind (it died,
  or the broker lost their jobs) are queued for ingest on this worker.
* A worker consuming the ``recording`` queue is a recording host: it starts its host agent
  (``footage.hosts``: membership heartbeat, its own spool swept every supervise interval) and, on
  shutdown, signs off before its recorders release their cameras.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready, worker_shutting_down

log = logging.getLogger(__name__)


@worker_shutting_down.connect
def _recorders_stop(**_kwargs: Any) -> None:
    from footage import hosts, recorder

    hosts.agent_stop()  # first: the supervisor must not hand the released cameras back to this host
    recorder.shutting_down.set()


@worker_ready.connect
def _spool_sweep_on_start(sender: Any = None, **_kwargs: Any) -> None:
    from footage import supervise
    from footage.tasks import ingest_enqueuer

    try:
        report = supervise.spool_sweep(enqueue=ingest_enqueuer(getattr(sender, "hostname", "")))
        if report.queued or report.recovered_runs:
            log.warning("Spool sweep at start-up: %d segments queued, %d runs recovered",
                        report.queued, report.recovered_runs)
    except Exception:  # noqa: BLE001  a failing sweep must not stop the worker; the supervisor retries
        log.exception("Spool sweep at start-up failed")


@worker_ready.connect
def _host_agent_start(sender: Any = None, **_kwargs: Any) -> None:
    from footage import hosts
    from footage.tasks import ingest_enqueuer

    hostname = getattr(sender, "hostname", "")
    try:
        consumed = set(sender.app.amqp.queues.consume_from or {})
    except AttributeError:
        return
    if not hostname or hosts.RECORDING_QUEUE not in consumed:
        return
    try:
        hosts.agent_start(hostname, ingest_enqueuer(hostname))
    except Exception:  # noqa: BLE001  without it this worker still records what it is given
        log.exception("Recording host %s could not start its agent", hostname)
