"""Latency of the registry pages and API, next to the floor of a bare Django view, in one run.

Usage: SAFECAM_DATA_DIR=/tmp/sc-bench .venv/bin/python bench/page_latency.py [--requests 200]
Seeds the Biržai registry into the configured database (SQLite under SAFECAM_DATA_DIR unless
DATABASE_URL says otherwise), then times in-process requests through the whole middleware stack
for a specialist and the public-order officer. Prints p50/p95 per URL and the queries each takes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safecam.settings")
os.environ.setdefault("SAFECAM_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def measure(client: Client, url: str, n: int) -> tuple[float, float, int]:
    client.get(url)  # warm caches
    queries: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)):
        client.get(url)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_birzai", "--demo-users", verbosity=0)
    users = get_user_model().objects
    from cameras.models import Camera

    camera = Camera.objects.filter(site__slug="vabalninkas").first()
    print(f"database: {connection.vendor}; {args.requests} requests per URL; times in ms")
    print(f"{'persona':<18}{'url':<58}{'p50':>8}{'p95':>8}{'queries':>9}")
    for username in ("spec-vabalninkas", "public-order"):
        client = Client()
        client.force_login(users.get(username=username))
        for url in ("/healthz", "/", "/sites/vabalninkas/", f"/cameras/{camera.public_id}/",
                    "/api/v1/cameras/", "/api/v1/sites/"):
            p50, p95, queries = measure(client, url, args.requests)
            label = url + ("   (floor: bare view)" if url == "/healthz" else "")
            print(f"{username:<18}{label:<58}{p50:>8.2f}{p95:>8.2f}{queries:>9}")


if __name__ == "__main__":
    main()
