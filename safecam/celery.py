"""The Celery application. Tasks live in each app's ``tasks.py`` and stay thin (STYLE.md).

With the embedded default broker (kombu's filesystem transport) the queue folders must exist
before a worker starts, so they are made here.

Before each task, a database connection that failed is checked and dropped if broken, as Django does
at the start of each request: the workers reuse connections (``CELERY_DB_REUSE_MAX``), and without this
a PostgreSQL restart would leave every worker thread on a dead connection for thousands of tasks.
"""

import os
from pathlib import Path

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safecam.settings")

app = Celery("safecam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _make_broker_folders(sender: Celery, **kwargs: object) -> None:
    # Read the settings, not ``sender.conf``: the configuration is being built (reading it here recurses).
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@task_prerun.connect
def _database_connections_check(**kwargs: object) -> None:
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
