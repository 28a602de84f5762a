"""The load test's smoke: ``bench/locustfile.py``'s personas for a few seconds against a live server.

Keeps the bench working (pages it requests, sessions built server-side, the player's requests) and
says that nothing any persona does under concurrent use answers an error. No timings: those are
``bench/load.py``'s, with 24 recording cameras and the one-client floor next to them.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from cameras.models import Camera
from tests.factories import footage_index

LOCUST = Path(sys.executable).with_name("locust")

# Never import locust here: it monkey-patches the whole process with gevent. It runs as its own process.
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not LOCUST.exists(), reason="locust is not installed (pip install -e '.[dev]')")]
REPO = Path(__file__).resolve().parents[2]


def test_the_load_personas_browse_and_watch_footage_without_errors(live_server, tmp_path: Path) -> None:
    from bench import load

    call_command("seed_birzai", "--demo-users", verbosity=0, stdout=io.StringIO())
    start = timezone.now() - timedelta(seconds=75)
    for camera in Camera.objects.all():
        footage_index(camera, start, count=8, seconds=10.0)
    sessions = tmp_path / "sessions.json"
    people = load.sessions_build(5, sessions)
    assert set(people) == {"specialist", "public_order", "dpo", "coordinator"}

    env = {**os.environ, "SAFECAM_LOAD_SESSIONS": str(sessions), "SAFECAM_LOAD_WATCH_SECONDS": "3"}
    # Five users: Locust gives each of the four personas at least one.
    result = subprocess.run(
        [str(LOCUST), "-f", str(REPO / "bench" / "locustfile.py"), "--headless", "-u", "5", "-r", "5", "-t", "8s",
         "--host", live_server.url, "--csv", str(tmp_path / "smoke"), "--only-summary", "--stop-timeout", "5",
         "--loglevel", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    with (tmp_path / "smoke_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    with (tmp_path / "smoke_failures.csv").open() as handle:
        failures = list(csv.DictReader(handle))
    assert failures == [], f"{failures}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert int(stats["Aggregated"]["Request Count"]) > 10, result.stderr[-3000:]
    assert int(stats["Aggregated"]["Failure Count"]) == 0
    assert {"dashboard"} <= set(stats), sorted(stats)
