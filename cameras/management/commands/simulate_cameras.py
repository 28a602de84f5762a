"""``manage.py simulate_cameras --count N``: real RTSP cameras for demos and tests (GStreamer).

The server itself is ``cameras/simulator.py``, which imports nothing from Django. GStreamer's
Python bindings (``python3-gi``) are a Debian package installed into the system Python, not into
the virtualenv, so when this interpreter cannot import them the command replaces itself with
``/usr/bin/python3`` running the simulator (``exec``: Ctrl-C and honcho's signals reach it).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

SIMULATOR = Path(__file__).resolve().parents[2] / "simulator.py"
SYSTEM_PYTHON = "/usr/bin/python3"


def simulator_python() -> str:
    """An interpreter that can import GStreamer's introspection bindings."""
    if importlib.util.find_spec("gi") is not None:
        return sys.executable
    if Path(SYSTEM_PYTHON).exists():
        return SYSTEM_PYTHON
    raise CommandError("GStreamer's Python bindings are missing: install python3-gi and "
                       "gir1.2-gst-rtsp-server-1.0 (make install does).")


class Command(BaseCommand):
    help = "Run simulated RTSP cameras (GStreamer RTSP server): mounts /cam0 … /cam{N-1}."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=24)
        parser.add_argument("--port", type=int, default=8554)
        parser.add_argument("--control-port", type=int, default=None,
                            help="HTTP port that takes mounts down and up (default: RTSP port + 1)")
        parser.add_argument("--width", type=int, default=320)
        parser.add_argument("--height", type=int, default=180)
        parser.add_argument("--fps", type=int, default=5)
        parser.add_argument("--bitrate", type=int, default=300, help="kbit/s per camera")
        parser.add_argument("--username", default="", help="require digest authentication with this user")
        parser.add_argument("--password", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["count"] < 1:
            raise CommandError("--count must be at least 1.")
        if bool(options["username"]) != bool(options["password"]):
            raise CommandError("Give both --username and --password, or neither.")
        argv = [simulator_python(), str(SIMULATOR)]
        for name in ("count", "port", "control_port", "width", "height", "fps", "bitrate", "username", "password"):
            if options[name] not in (None, ""):
                argv += [f"--{name.replace('_', '-')}", str(options[name])]
        sys.stdout.flush()
        os.execv(argv[0], argv)
