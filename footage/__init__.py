"""Recording, the footage index, retention and holds (playback and exports arrive later).

Modules: ``recorder`` (one ffmpeg per camera, under a lease), ``spool`` (the local folder segments
land in), ``services`` (leases, runs, gaps, ingest, storage status, holds), ``supervise`` (what
beat runs every few seconds), ``retention`` (the deletion job), ``verify`` (re-hashing),
``selectors`` (timeline, holds), ``tasks`` (thin Celery wrappers), ``api``/``views`` (holds,
timeline, retention records).

Stands on ``cameras``: runs, segments, gaps, holds and retention records use ``FootageQuerySet``
(``site_path = "camera__site"``), so they inherit permissions from the eldership with no rows of
their own in django-guardian's tables. Health shown on the registry's pages lives in
``cameras.CameraHealth``, written from here through ``cameras.services``.
"""
