"""A camera URL with shell metacharacters is an opaque argument: ffmpeg never runs through a shell.

Two proofs: the real recorder runs the real ffmpeg with such URLs (pointing at a closed port) and
the marker file each would create through a shell never appears; and a scan of every Python file
of the project finds no shell: no ``shell=True``, no ``os.system``/``os.popen``, no command given
as one string."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from cameras.models import Camera
from footage.recorder import CameraRecorder, ffmpeg_command
from tests.hardening.conftest import NoTrace

ROOT = Path(__file__).resolve().parents[2]

# Each would create {marker} if the URL reached a shell. No spaces (refused outright), so ${IFS}.
INJECTIONS = {
    "semicolon": "rtsp://127.0.0.1:1/x;touch${IFS}{marker}",
    "pipe": "rtsp://127.0.0.1:1/x|touch${IFS}{marker}",
    "command substitution": "rtsp://127.0.0.1:1/$(touch${IFS}{marker})",
    "backticks": "rtsp://127.0.0.1:1/`touch${IFS}{marker}`",
    "and-and": "rtsp://127.0.0.1:1/x&&touch${IFS}{marker}",
    "in the query": "rtsp://127.0.0.1:1/x?a=1;touch${IFS}{marker}",
}


@pytest.mark.django_db
def test_the_recorder_passes_a_hostile_url_to_ffmpeg_as_one_argument_and_no_shell_runs(
        vabalninkas_camera: Camera, tmp_path: Path) -> None:
    from cameras import services
    from footage import services as footage_services

    markers = []
    for label, template in INJECTIONS.items():
        marker = tmp_path / f"PWNED-{label.replace(' ', '-')}"
        markers.append(marker)
        url = template.replace("{marker}", str(marker))
        services.stream_url_apply(camera=vabalninkas_camera, url=url)
        services.camera_save(camera=vabalninkas_camera, by=None)
        camera = Camera.objects.get(pk=vabalninkas_camera.pk)
        assert camera.stream_url == url  # stored as typed: an opaque value
        command = ffmpeg_command(camera.stream_url_with_credentials(), tmp_path, 10)
        assert isinstance(command, list) and command.count(url) == 1, command
        # The real recorder, the real ffmpeg: it cannot connect to port 1 and says so.
        recorder = CameraRecorder(camera_id=camera.pk, holder="hardening", enqueue_ingest=lambda *args: None)
        recorder.token = footage_services.lease_acquire(camera_id=camera.pk, holder="hardening")
        outcome = recorder.run_once(camera)
        footage_services.lease_release(camera_id=camera.pk, token=recorder.token)
        assert outcome.segments == 0 and outcome.reason == "camera_unreachable", (label, outcome)
        assert "Connection refused" in outcome.detail  # ffmpeg itself tried port 1, with the whole URL
    assert not [m for m in markers if m.exists()]
    assert not list(tmp_path.glob("PWNED*"))


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "url"), [("newline", "rtsp://127.0.0.1:1/x\ntouch /tmp/PWNED"),
                                            ("space", "rtsp://127.0.0.1:1/x; touch /tmp/PWNED"),
                                            ("carriage return", "rtsp://127.0.0.1:1/x\rtouch"),
                                            ("tab", "rtsp://127.0.0.1/\tx"),
                                            ("not rtsp", "file:///etc/passwd"),
                                            ("option for ffmpeg", "-i /etc/passwd"),
                                            ("concat protocol", "concat:/etc/passwd|/etc/shadow")])
def test_the_admin_refuses_a_stream_url_with_whitespace_or_another_scheme(
        label: str, url: str, superuser: Any, client_for: Any, vabalninkas: Any) -> None:
    client = client_for(superuser)
    body = {"site": vabalninkas.pk, "name": "Naujoji kamera", "location": "", "stream_url": url,
            "purpose": "Viešoji tvarka", "legal_basis": "BDAR 6 str. 1 d. e p.", "retention_hours": 72,
            "enabled": "on"}
    with NoTrace(Camera):
        response = client.post("/admin/cameras/camera/add/", body)
    assert response.status_code == 200, (label, response.status_code)
    assert response.context["adminform"].form.errors.get("stream_url"), label


@pytest.mark.django_db
def test_the_admin_stores_a_url_with_metacharacters_as_typed(superuser: Any, client_for: Any,
                                                             vabalninkas: Any) -> None:
    url = "rtsp://127.0.0.1:1/x;touch${IFS}/tmp/PWNED|$(id)&&`id`"
    body = {"site": vabalninkas.pk, "name": "Naujoji kamera", "location": "", "stream_url": url,
            "purpose": "Viešoji tvarka", "legal_basis": "BDAR 6 str. 1 d. e p.", "retention_hours": 72,
            "enabled": "on"}
    response = client_for(superuser).post("/admin/cameras/camera/add/", body)
    assert response.status_code == 302, response.content[:500]
    assert Camera.objects.get(name="Naujoji kamera").stream_url == url
    assert not Path("/tmp/PWNED").exists()


# --- the code: no shell anywhere -------------------------------------------------------------------

SUBPROCESS_CALLS = {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}
SHELL_FUNCTIONS = {("os", "system"), ("os", "popen"), ("asyncio", "create_subprocess_shell"),
                   ("subprocess", "getoutput"), ("subprocess", "getstatusoutput")}


def _project_files() -> list[Path]:
    skip = {".venv", "node_modules", "var", ".git", "static", "frontend", "locale"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


def _problems(tree: ast.AST, name: str) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{name}:{node.lineno}"
        dotted = _dotted(node.func)
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "shell" and not (isinstance(value, ast.Constant) and value.value is False):
                found.append(f"{where}: shell={ast.unparse(keyword.value)}")
        if dotted[-2:] in SHELL_FUNCTIONS:
            found.append(f"{where}: {'.'.join(dotted)}() runs a shell")
        if dotted[:1] == ("subprocess",) and dotted[-1] in SUBPROCESS_CALLS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant | ast.JoinedStr | ast.BinOp) or (
                    isinstance(first, ast.Call) and _dotted(first.func)[-1:] in {("format",), ("join",)}):
                found.append(f"{where}: the command is one string ({ast.unparse(first)[:60]})")
    return found


def test_no_python_file_of_the_project_runs_a_shell() -> None:
    files = _project_files()
    assert len(files) > 50 and any(p.name == "recorder.py" for p in files)
    problems = [problem for path in files
                for problem in _problems(ast.parse(path.read_text(encoding="utf-8"), str(path)),
                                         str(path.relative_to(ROOT)))]
    assert problems == []


def test_the_scan_would_catch_each_way_of_running_a_shell() -> None:
    bad = """
import os, subprocess, asyncio
subprocess.run("ffmpeg -i " + url, shell=True)
subprocess.Popen(f"ffmpeg -i {url}")
subprocess.check_output("ffprobe x")
os.system("ffmpeg")
os.popen("ffmpeg")
asyncio.create_subprocess_shell("ffmpeg")
subprocess.call(cmd, shell=flag)
"""
    assert len(_problems(ast.parse(bad), "x")) == 8
    assert _problems(ast.parse('subprocess.run(["ffmpeg", "-i", url], check=False)'), "x") == []
