"""Recording, segments, retention, holds, playback and exports (arrives with the recording issue).

Stands on ``cameras``: segments, runs, gaps and holds will use ``SiteScopedQuerySet`` with
``site_path = "camera__site"``, so they inherit permissions from the eldership with no rows of
their own in django-guardian's tables.
"""
