"""SafeCam project package: settings, URLs, the Celery app and the shared helpers.

The shared helpers (``config``, ``permissions``, ``audit``) import no SafeCam app; the apps stand
on them (see STYLE.md, "Layers").
"""

from safecam.celery import app as celery_app

__all__ = ["celery_app"]
