"""A real RTSP camera simulator on GStreamer's RTSP server: one mount per camera, ``/cam0`` … ``/camN-1``.

Run by ``manage.py simulate_cameras`` (which uses whichever Python can import GStreamer's
introspection bindings) and by the recording tests. It imports nothing from Django, so Debian's
own ``/usr/bin/python3`` with ``python3-gi`` can run it as a plain script.

Each mount encodes a live test picture with the camera's name and a wall clock burned in, so a
recording shows at a glance which camera and which second it holds. H.264 with a keyframe every
second: SafeCam's recorder cuts segments at keyframes, as it must with a real camera.

Outages: a small HTTP control port (``--control-port``, loopback only) takes a mount down and
brings it back, the way a camera loses power or its cable::

    curl -X POST http://127.0.0.1:8555/cam3/down   # clients are cut off, new ones refused (404)
    curl -X POST http://127.0.0.1:8555/cam3/up
    curl http://127.0.0.1:8555/                   # {"cam0": "up", ...}

Digest authentication (``--username``/``--password``) is what real cameras ask for; ffmpeg answers
it from ``rtsp://user:password@host/...``.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder would shadow the standard library (``cameras/selectors.py``).
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def pipeline(index: int, width: int, height: int, fps: int, bitrate: int) -> str:
    """The GStreamer launch line of one camera: test picture, name and clock, H.264, RTP."""
    # Patterns differ per camera so two recordings are never byte-identical.
    pattern = (0, 18, 1, 13, 24, 11)[index % 6]
    font = max(8, height // 14)
    return (
        f"( videotestsrc is-live=true pattern={pattern} "
        f"! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! textoverlay text=cam{index} valignment=top halignment=left font-desc=\"Sans {font}\" "
        f"! clockoverlay time-format=\"%Y-%m-%d %H:%M:%S\" valignment=bottom halignment=right "
        f"font-desc=\"Sans {font}\" "
        f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={bitrate} key-int-max={fps} "
        f"! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


class Simulator:
    """The RTSP server, its mounts, and which of them are down."""

    def __init__(self, *, count: int, port: int, width: int, height: int, fps: int, bitrate: int,
                 username: str = "", password: str = "", address: str = "127.0.0.1") -> None:
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address(address)
        self.server.set_service(str(port))
        self.count = count
        self.factories: dict[str, GstRtspServer.RTSPMediaFactory] = {}
        self.down: set[str] = set()
        if username:
            auth = GstRtspServer.RTSPAuth()
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            token = GstRtspServer.RTSPToken()
            token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
            auth.add_digest(username, password, token)
            self.server.set_auth(auth)
        for index in range(count):
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(pipeline(index, width, height, fps, bitrate))
            # One encoder per camera however many clients watch, as on a real camera.
            factory.set_shared(True)
            if username:
                permissions = GstRtspServer.RTSPPermissions()
                for permission in (GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                   GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT):
                    permissions.add_permission_for_role("camera-user", permission, True)
                factory.set_permissions(permissions)
            name = f"cam{index}"
            self.factories[name] = factory
            self.server.get_mount_points().add_factory(f"/{name}", factory)

    def status(self) -> dict[str, str]:
        return {name: ("down" if name in self.down else "up") for name in self.factories}

    def set_down(self, name: str) -> bool:
        """Cut every client of the mount and refuse new ones (runs on the GLib main loop)."""
        self.down.add(name)
        self.server.get_mount_points().remove_factory(f"/{name}")
        path = f"/{name}"

        def session_filter(_pool: object, session: GstRtspServer.RTSPSession) -> GstRtspServer.RTSPFilterResult:
            for media in session.filter(None):
                matched, _length = media.matches(path)
                if matched:
                    return GstRtspServer.RTSPFilterResult.REMOVE
            return GstRtspServer.RTSPFilterResult.KEEP

        self.server.get_session_pool().filter(session_filter)

        def client_filter(_server: object, client: GstRtspServer.RTSPClient) -> GstRtspServer.RTSPFilterResult:
            # A client whose only session we removed is idle: close it, as a dead camera would.
            return (GstRtspServer.RTSPFilterResult.REMOVE if not client.session_filter(None)
                    else GstRtspServer.RTSPFilterResult.KEEP)

        self.server.client_filter(client_filter)
        return False

    def set_up(self, name: str) -> bool:
        if name in self.down:
            self.down.discard(name)
            self.server.get_mount_points().add_factory(f"/{name}", self.factories[name])
        return False



def control_server(sim: Simulator, port: int) -> ThreadingHTTPServer:
    """The loopback HTTP port that takes mounts down and up (GLib work is handed to the main loop)."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, code: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._reply(200, sim.status())

        def do_POST(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")
            if len(parts) != 2 or parts[0] not in sim.factories or parts[1] not in ("down", "up"):
                self._reply(404, {"error": "use POST /camN/down or /camN/up"})
                return
            done = threading.Event()

            def act() -> bool:
                (sim.set_down if parts[1] == "down" else sim.set_up)(parts[0])
                done.set()
                return False

            GLib.idle_add(act)
            done.wait(5)
            self._reply(200, sim.status())

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True, name="control").start()
    return httpd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulated RTSP cameras (GStreamer RTSP server).")
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--control-port", type=int, default=None,
                        help="HTTP port to take mounts down/up (default: RTSP port + 1)")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--bitrate", type=int, default=300, help="kbit/s per camera")
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--bind-all", action="store_true", help="listen on every interface, not only loopback")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    Gst.init(None)
    sim = Simulator(count=args.count, port=args.port, width=args.width, height=args.height, fps=args.fps,
                    bitrate=args.bitrate, username=args.username, password=args.password,
                    address="0.0.0.0" if args.bind_all else "127.0.0.1")
    if sim.server.attach(None) == 0:
        print(f"Cannot listen on RTSP port {args.port}: is another simulator running?", file=sys.stderr)
        return 1
    control_port = args.control_port or args.port + 1
    control_server(sim, control_port)
    loop = GLib.MainLoop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda *_: (loop.quit(), False)[1])
    auth = " (digest authentication)" if args.username else ""
    print(f"Simulating {args.count} cameras{auth}: rtsp://127.0.0.1:{args.port}/cam0 … /cam{args.count - 1}, "
          f"{args.width}x{args.height} at {args.fps} fps; control on http://127.0.0.1:{control_port}/",
          flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
