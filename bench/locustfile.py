"""The people of bench/load.py: specialists, public order, the DPO and the coordinator, as Locust users.

Run by ``bench/load.py`` (which starts SafeCam, builds signed-in sessions server-side and writes
them to the file named by ``SAFECAM_LOAD_SESSIONS``); by hand::

    SAFECAM_LOAD_SESSIONS=/tmp/…/sessions.json .venv/bin/locust -f bench/locustfile.py --headless \
        -u 50 -r 10 -t 60s --host http://127.0.0.1:8000 --csv /tmp/load

Each user takes the next session of its persona (its own ``sessionid`` cookie: signed in, second
factor verified) and browses with a few seconds' thought between pages. Watching footage is
modelled as a player does it: open a viewing session, fetch the playlist for the last minutes, then
fetch each segment when the previous one has played (one ``EXTINF`` of wall time per segment, not
a flood), with the player's heartbeat every 15 s and a closing beat at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from locust import HttpUser, between, task

SESSIONS: dict[str, list[dict[str, Any]]] = {}
if os.environ.get("SAFECAM_LOAD_SESSIONS"):
    with open(os.environ["SAFECAM_LOAD_SESSIONS"]) as handle:
        SESSIONS = json.load(handle)
_next = {persona: itertools.cycle(range(len(people))) for persona, people in SESSIONS.items()}
# How long a viewer watches (seconds of footage, played in real time) before closing the player.
WATCH_SECONDS = float(os.environ.get("SAFECAM_LOAD_WATCH_SECONDS", "40"))
BEAT_SECONDS = 15.0
EXTINF = re.compile(r"#EXTINF:([0-9.]+),")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Persona(HttpUser):
    abstract = True
    persona = ""
    wait_time = between(1, 4)

    def on_start(self) -> None:
        people = SESSIONS[self.persona]
        self.me = people[next(_next[self.persona])]
        self.client.cookies.set("sessionid", self.me["sessionid"])
        self.client.cookies.set("csrftoken", self.me["csrftoken"])
        self.client.headers["User-Agent"] = f"safecam-load/{self.persona}"

    def page(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}" + (f": {response.error!r}" if response.error else ""))

    def camera(self) -> str:
        return random.choice(self.me["cameras"])

    def timeline(self) -> None:
        now = datetime.now(UTC)
        url = f"/api/v1/cameras/{self.camera()}/timeline/?start={iso(now - timedelta(hours=24))}&end={iso(now)}"
        self.page(url, "API timeline (24 h)")

    def watch(self) -> None:
        """Open a viewing session, fetch the playlist of the last minutes, play its segments in real time."""
        camera = self.camera()
        headers = {"X-CSRFToken": self.me["csrftoken"], "Referer": self.host + "/"}
        with self.client.post(f"/api/v1/cameras/{camera}/playback/", json={"mode": "recorded"}, headers=headers,
                              name="API playback session", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.error!r} {(response.text or '')[:200]}")
                return
            links = response.json()
        now = datetime.now(UTC)
        start = now - timedelta(seconds=WATCH_SECONDS + 30)
        playlist_url = f"{links['playlist']}?start={iso(start)}&end={iso(now)}"
        with self.client.get(playlist_url, name="playlist (m3u8)", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            lines = response.text.splitlines()
        segments: list[tuple[float, str]] = []
        duration = 0.0
        for line in lines:
            found = EXTINF.match(line)
            if found:
                duration = float(found.group(1))
            elif line and not line.startswith("#"):
                segments.append((duration, urljoin(links["playlist"], line)))  # relative to the playlist
        if not segments:
            return
        played_from = time.monotonic()
        last_beat = played_from
        watched_start = now - timedelta(seconds=sum(d for d, _u in segments))
        for seconds, url in segments:
            if time.monotonic() - played_from > WATCH_SECONDS:
                break
            with self.client.get(url, name="segment (.ts)", catch_response=True) as response:
                if response.status_code != 200 or not response.content:
                    response.failure(f"{response.status_code}")
                    return
            time.sleep(seconds)  # the player asks for the next segment when this one has played
            if time.monotonic() - last_beat >= BEAT_SECONDS:
                last_beat = time.monotonic()
                self._beat(links["beat"], headers, watched_start, closing=False)
        self._beat(links["beat"], headers, watched_start, closing=True)

    def _beat(self, url: str, headers: dict[str, str], since: datetime, *, closing: bool) -> None:
        body = {"watched": [[iso(since), iso(datetime.now(UTC))]], "closing": closing}
        with self.client.post(url, json=body, headers=headers, name="player beat", catch_response=True) as response:
            if response.status_code != 204:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class Specialist(Persona):
    """An eldership specialist: the dashboard, their site, its cameras, timelines, recorded footage."""

    persona = "specialist"
    weight = 30

    @task(3)
    def dashboard(self) -> None:
        self.page("/", "dashboard")

    @task(2)
    def site(self) -> None:
        self.page(f"/sites/{random.choice(self.me['sites'])}/", "site page")

    @task(3)
    def camera_page(self) -> None:
        self.page(f"/cameras/{self.camera()}/", "camera page")

    @task(4)
    def camera_timeline(self) -> None:
        self.timeline()

    @task(1)
    def cameras_api(self) -> None:
        self.page("/api/v1/cameras/", "API cameras")

    @task(2)
    def footage(self) -> None:
        self.watch()


class PublicOrder(Persona):
    """The Public Order department: every camera, timelines and footage across all elderships."""

    persona = "public_order"
    weight = 10

    @task(2)
    def dashboard(self) -> None:
        self.page("/", "dashboard")

    @task(2)
    def camera_page(self) -> None:
        self.page(f"/cameras/{self.camera()}/", "camera page")

    @task(3)
    def camera_timeline(self) -> None:
        self.timeline()

    @task(1)
    def cameras_api(self) -> None:
        self.page("/api/v1/cameras/", "API cameras")

    @task(1)
    def holds(self) -> None:
        self.page("/holds/", "holds page")

    @task(3)
    def footage(self) -> None:
        self.watch()


class DataProtectionOfficer(Persona):
    """The DPO: the requests dashboard, the registers, the viewing log."""

    persona = "dpo"
    weight = 5

    @task(3)
    def requests_dashboard(self) -> None:
        self.page("/requests/", "requests dashboard")

    @task(2)
    def register(self) -> None:
        self.page("/requests/register/", "requests register")

    @task(1)
    def disclosures(self) -> None:
        self.page("/requests/disclosures/", "disclosure log")

    @task(1)
    def processing(self) -> None:
        self.page("/records/processing/", "processing record")

    @task(2)
    def viewing_log(self) -> None:
        self.page("/viewing/", "viewing log")


class Coordinator(Persona):
    """The project coordinator: statistics, the project page, reports."""

    persona = "coordinator"
    weight = 5

    @task(3)
    def statistics(self) -> None:
        self.page("/statistics/", "statistics page")

    @task(2)
    def project(self) -> None:
        self.page("/project/", "project page")

    @task(1)
    def reports(self) -> None:
        self.page("/reports/", "reports page")

    @task(1)
    def dashboard(self) -> None:
        self.page("/", "dashboard")
