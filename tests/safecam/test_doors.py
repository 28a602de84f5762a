"""No door without a policy: every route of the URLconf declares who may come in (safecam.doors), and
a persona matrix test marked ``@pytest.mark.door("url-name")`` shows it does.

The markers are found by reading the test files (``ast``), not by collecting them, so this test
gives the same answer run alone, with ``-k``, or split across xdist workers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from safecam import doors

TESTS = Path(__file__).resolve().parents[1]
THROWAWAY = "tests.safecam.doors_urlconf"


# --- the persona markers -------------------------------------------------------------------------

def _is_door_marker(func: ast.expr) -> bool:
    # pytest.mark.door(...) or mark.door(...)
    if not (isinstance(func, ast.Attribute) and func.attr == "door"):
        return False
    owner = func.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (isinstance(owner, ast.Name)
                                                                          and owner.id == "mark")


def door_markers(root: Path = TESTS) -> dict[str, list[str]]:
    """Every URL name a ``pytest.mark.door(...)`` names in the test files, with where it does."""
    found: dict[str, list[str]] = {}
    for file in sorted(root.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_door_marker(node.func):
                for arg in node.args:
                    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                        raise AssertionError(f"{file}:{node.lineno}: pytest.mark.door() takes URL names as strings")
                    found.setdefault(arg.value, []).append(f"{file.relative_to(root.parent)}:{node.lineno}")
    return found


def uncovered(routes: Iterable[doors.Route], covered: Iterable[str]) -> list[str]:
    """Routes that no persona test marks (a walked namespace is covered by ``"<namespace>:*"``)."""
    covered = set(covered)
    missing: dict[str, doors.Route] = {}
    for route in routes:
        top = route.namespace.split(":")[0]
        if top in doors.WALKED_NAMESPACES and f"{top}:*" in covered:
            continue
        key = route.full_name or route.route
        if key not in covered:
            missing.setdefault(key, route)
    return [f"{key}: {route.route or '(root)'} → {route.view}" for key, route in missing.items()]


# --- the real URLconf ----------------------------------------------------------------------------

def test_every_route_declares_its_door() -> None:
    problems = doors.problems()
    assert not problems, ("Routes without a door (declare one: safecam/doors.py says how):\n"
                          + "\n".join(problems))


def test_every_route_has_a_persona_matrix_test() -> None:
    missing = uncovered(doors.routes(), door_markers())
    assert not missing, ("Routes no persona matrix test marks with @pytest.mark.door(name) (write one: every "
                         "persona of tests/conftest.py, the status each gets):\n" + "\n".join(missing))


def test_every_door_marker_names_a_route_that_exists() -> None:
    names = {route.full_name for route in doors.routes() if route.full_name}
    walked = {f"{namespace}:*" for namespace in doors.WALKED_NAMESPACES}
    stale = {name: where for name, where in door_markers().items() if name not in names | walked}
    assert not stale, "pytest.mark.door() names routes that do not exist:\n" + "\n".join(
        f"{name}: {', '.join(where)}" for name, where in sorted(stale.items()))


def test_the_walker_sees_nested_includes_routers_and_format_suffixes() -> None:
    routes = doors.routes()
    shown = {route.route for route in routes}
    assert "api/v1/^cameras/$" in shown and r"api/v1/^cameras\.(?P<format>[a-z0-9]+)/?$" in shown
    assert "privacy/<slug:slug>/" in shown  # access_requests.urls includes urls_public
    assert "admin/auth/user/" in shown
    by_name = {route.full_name: route for route in routes}
    assert "{post: release}" in by_name["api:hold-release"].view
    assert by_name["public-request"].door.policy is doors.PUBLIC
    assert by_name["api:site-list"].door.policy is doors.RESTRICTED
    assert by_name["api:hold-list"].door.policy.kind == "reach"
    assert by_name["admin:auth_user_changelist"].door.policy is doors.ADMIN


# --- the walker can fail ---------------------------------------------------------------------------

def test_the_walker_reports_a_route_without_a_door(settings: Any) -> None:
    settings.ROOT_URLCONF = THROWAWAY
    problems = doors.problems()
    assert f"forgotten/ [forgotten] → {THROWAWAY}.forgotten: no policy" in problems
    assert f"api/default/ [api-default] → {THROWAWAY}.DefaultOnly: no policy" in problems
    assert any(line.startswith("api/lying/ ") and "let anonymous callers in" in line for line in problems)
    assert any(line.startswith("api/unenforced/ ") and "nothing enforces it" in line for line in problems)
    assert any(line.startswith("nameless/ ") and "has no URL name" in line for line in problems)
    assert any(line.startswith("api/unchecked/ ") and "nothing enforces it" in line for line in problems)
    assert len(problems) == 6, problems  # the declared ones pass


def test_the_persona_check_reports_a_route_no_test_marks(settings: Any) -> None:
    settings.ROOT_URLCONF = THROWAWAY
    missing = uncovered(doors.routes(), {"public", "dpo"})
    assert f"forgotten: forgotten/ → {THROWAWAY}.forgotten" in missing
    assert not any(line.startswith(("public:", "dpo:")) for line in missing)


def test_the_marker_scan_reads_markers_where_pytest_would_apply_them(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\nfrom pytest import mark\n"
        "pytestmark = [pytest.mark.django_db, pytest.mark.door('a')]\n"
        "@pytest.mark.door('b', 'c')\ndef test_one(): pass\n"
        "@mark.door('d')\ndef test_two(): pass\n"
        "@pytest.mark.parametrize('x', [pytest.param(1, marks=pytest.mark.door('e'))])\ndef test_three(x): pass\n")
    assert set(door_markers(tmp_path / "tests")) == {"a", "b", "c", "d", "e"}


def test_a_door_needs_a_policy_and_a_reason() -> None:
    with pytest.raises(TypeError, match="reason"):
        doors.door(doors.PUBLIC, reason=" ")
    with pytest.raises(TypeError, match="policy"):
        doors.door("public", reason="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="THIRD_PARTY"):
        doors.door(doors.ADMIN, reason="x")
    with pytest.raises(TypeError, match="app_label.codename"):
        doors.PERMISSION("handle_request")


# --- the doors let in exactly whom they say -----------------------------------------------------------

EXPECTED = {  # path: status for anonymous, spec_vabalninkas, dpo, superuser (302: to the login page)
    "/public/": (200, 200, 200, 200),
    "/signed-in/": (302, 200, 200, 200),
    "/dpo/": (302, 404, 200, 200),
    "/specialists/": (302, 200, 404, 404),
    "/dpo-class/": (302, 404, 200, 200),
    "/api/dpo/": (401, 404, 200, 200),
    "/api/restricted/": (401, 200, 200, 200),
}


@pytest.mark.django_db
@pytest.mark.parametrize("index,name", list(enumerate(["anonymous", "spec_vabalninkas", "dpo", "superuser"])))
def test_each_door_lets_in_whom_it_declares_and_404s_the_rest(index: int, name: str, settings: Any, persona: Any,
                                                              client_for: Any, api_client_for: Any) -> None:
    settings.ROOT_URLCONF = THROWAWAY
    user = None if name == "anonymous" else persona(name)
    for path, statuses in EXPECTED.items():
        client = api_client_for(user) if path.startswith("/api/") else client_for(user)
        response = client.get(path)
        assert response.status_code == statuses[index], (path, name)
        if response.status_code == 302:
            assert response["Location"].startswith(f"/accounts/login/?next={path}")


def test_the_doors_command_lists_every_route_with_its_door(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    call_command("doors")
    listed = capsys.readouterr().out
    assert "healthz [healthz] → safecam.views.healthz: public: " in listed
    assert "routes of the admin site" in listed
    settings.ROOT_URLCONF = THROWAWAY
    with pytest.raises(SystemExit):
        call_command("doors")
    assert "forgotten/ [forgotten]" in capsys.readouterr().out
