"""Shared fixtures: the personas of STYLE.md, built with the real services, and clients for them.

``DJANGO_SETTINGS_MODULE`` comes from ``[tool.pytest.ini_options]`` in ``pyproject.toml``;
``SAFECAM_DATA_DIR`` comes from the environment (the Makefile points it at a temporary folder).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from cameras import services
from cameras.models import Camera, Site
from safecam import roles
from tests.factories import CameraFactory, SiteFactory

User = get_user_model()

PASSWORD = "Persona-pass-2026"


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    # The manifest storage needs `collectstatic`; pages only need URLs.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    # A real hasher costs ~0.3 s per user; the suite makes hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate-limit counters per test process (cleared per test): the other xdist process, sharing
    # Redis and 127.0.0.1, must not use up a test's allowance. Production shares them (settings).
    settings.CACHES = {**settings.CACHES, "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                        "LOCATION": "ratelimit"}}


@pytest.fixture(autouse=True, scope="session")
def _private_broker(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With the file broker, each test process gets its own folders: a `make run` on the same
    checkout, or the other xdist process, must never take a test's messages."""
    from safecam.celery import app

    if not app.conf.broker_url.startswith("filesystem://"):
        return
    folder = tmp_path_factory.mktemp("broker")
    for name in ("queue", "control"):
        (folder / name).mkdir()
    app.conf.broker_transport_options = {"data_folder_in": str(folder / "queue"),
                                         "data_folder_out": str(folder / "queue"),
                                         "control_folder": str(folder / "control"), "store_processed": False}


@pytest.fixture(autouse=True)
def _audit_chain_head(request: pytest.FixtureRequest) -> None:
    """A transactional test's flush empties every table, the audit head row (made by a data
    migration) too: make sure it is there before each database test."""
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(
            request.fixturenames):
        return
    from safecam.models import AuditChainHead

    AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


@pytest.fixture(autouse=True)
def _empty_cache(_test_settings: None) -> None:
    # The token endpoint's throttle and the public form's rate limit count attempts in caches;
    # each test starts from zero.
    from django.core.cache import caches

    cache.clear()
    caches["ratelimit"].clear()


def footage_folder_use(settings: Any, tmp_path: Path) -> Path:
    """Footage (and its spool and work folders) in the test's own folder, on the real FileSystemStorage."""
    folder = tmp_path / "storage"
    settings.STORAGES = {**settings.STORAGES, "footage": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}}}
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.DATA_DIR = tmp_path / "data"
    return folder


# --- the registry --------------------------------------------------------------------------------


@pytest.fixture
def role_groups(db: None) -> dict[str, Group]:
    return roles.roles_sync()


@pytest.fixture
def vabalninkas(db: None) -> Site:
    return SiteFactory(name="Vabalninkas", slug="vabalninkas")


@pytest.fixture
def pabirze(db: None) -> Site:
    return SiteFactory(name="Pabiržė", slug="pabirze")


@pytest.fixture
def vabalninkas_cameras(vabalninkas: Site) -> list[Camera]:
    return [CameraFactory(site=vabalninkas, name="Vabalninko aikštė"),
            CameraFactory(site=vabalninkas, name="Vabalninko autobusų stotelė")]


@pytest.fixture
def pabirze_cameras(pabirze: Site) -> list[Camera]:
    return [CameraFactory(site=pabirze, name="Pabiržės bažnyčios šventorius"),
            CameraFactory(site=pabirze, name="Pabiržės mokyklos kiemas")]


@pytest.fixture
def vabalninkas_camera(vabalninkas_cameras: list[Camera]) -> Camera:
    return vabalninkas_cameras[0]


@pytest.fixture
def pabirze_camera(pabirze_cameras: list[Camera]) -> Camera:
    return pabirze_cameras[0]


@pytest.fixture
def registry(vabalninkas_cameras: list[Camera], pabirze_cameras: list[Camera]) -> dict[str, list[Camera]]:
    """Both elderships with their cameras, keyed by site slug."""
    return {"vabalninkas": vabalninkas_cameras, "pabirze": pabirze_cameras}


# --- the personas --------------------------------------------------------------------------------


def make_user(username: str, *, group: Group | None = None, **fields: Any) -> Any:
    user = User.objects.create_user(username=username, password=PASSWORD, **fields)
    if group is not None:
        user.groups.add(group)
    return user


def make_specialist(username: str, site: Site, groups: dict[str, Group]) -> Any:
    user = make_user(username, group=groups[roles.ELDERSHIP_SPECIALIST])
    services.site_access_grant(user=user, site=site, actions=roles.SPECIALIST_SITE_ACTIONS, by=None)
    return user


@pytest.fixture
def spec_vabalninkas(role_groups: dict[str, Group], vabalninkas: Site) -> Any:
    return make_specialist("spec_vabalninkas", vabalninkas, role_groups)


@pytest.fixture
def spec_pabirze(role_groups: dict[str, Group], pabirze: Site) -> Any:
    return make_specialist("spec_pabirze", pabirze, role_groups)


@pytest.fixture
def public_order(role_groups: dict[str, Group]) -> Any:
    return make_user("public_order", group=role_groups[roles.PUBLIC_ORDER_OFFICER])


@pytest.fixture
def dpo(role_groups: dict[str, Group]) -> Any:
    return make_user("dpo", group=role_groups[roles.DATA_PROTECTION_OFFICER])


@pytest.fixture
def coordinator(role_groups: dict[str, Group]) -> Any:
    return make_user("coordinator", group=role_groups[roles.PROJECT_COORDINATOR])


@pytest.fixture
def superuser(db: None) -> Any:
    return User.objects.create_superuser(username="admin", password=PASSWORD, email="admin@birzai.lt")


@pytest.fixture
def anonymous() -> AnonymousUser:
    return AnonymousUser()


PERSONAS = ("anonymous", "spec_vabalninkas", "spec_pabirze", "public_order", "dpo", "coordinator")

# Which of the two elderships each persona may see (STYLE.md and CONTRACT.md, "Personas").
VISIBLE_SITES: dict[str, set[str]] = {
    "anonymous": set(),
    "spec_vabalninkas": {"vabalninkas"},
    "spec_pabirze": {"pabirze"},
    "public_order": {"vabalninkas", "pabirze"},
    "dpo": {"vabalninkas", "pabirze"},
    "coordinator": set(),
}


@pytest.fixture
def persona(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """``persona("dpo")``: the persona fixture by name, for parametrized matrices."""
    return request.getfixturevalue


# --- clients -------------------------------------------------------------------------------------


def otp_device(user: Any) -> Any:
    """The user's confirmed authenticator (made on first use), as enrolment leaves it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_now(user: Any) -> str:
    """The code the user's authenticator app shows right now."""
    from django_otp.oath import TOTP

    device = otp_device(user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _logged_in(client: Client, user: Any, *, verified: bool = True) -> Client:
    """``user``'s session on ``client``; ``verified``: past the second factor too, as after a login
    with the password and a one-time code (safecam/twofactor.py)."""
    if user is not None and user.is_authenticated:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if verified:
            from django_otp import DEVICE_ID_SESSION_KEY

            session = client.session
            session[DEVICE_ID_SESSION_KEY] = otp_device(user).persistent_id
            session.save()
    return client


@pytest.fixture
def client_for(db: None) -> Callable[[Any], Client]:
    """``client_for(user)``: a browser-like client with ``user``'s session (anonymous for None)."""
    return lambda user: _logged_in(Client(), user)


@pytest.fixture
def api_client_for(db: None) -> Callable[[Any], APIClient]:
    """``api_client_for(user)``: a DRF client with ``user``'s session (anonymous for None)."""
    return lambda user: _logged_in(APIClient(), user)
