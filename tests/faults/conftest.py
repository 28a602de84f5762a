"""Fault tests: real processes (simulator, beat, workers, ffmpeg) and real servers the tests break.

Every test here is marked ``faults`` (``pytest -m faults`` runs only them) and runs in ``make test``.
The pipeline fixture comes from the recording harness; the private servers and the small disk from
``tests.faults.services``.
"""

from __future__ import annotations

from tests.footage.recording_harness import pipeline  # noqa: F401  (a fixture for the tests here)
from tests.servers import sftp_server  # noqa: F401  (a fixture for the tests here)
