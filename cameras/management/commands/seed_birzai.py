"""``manage.py seed_birzai [--demo-users] [--password P] [--data FILE]``: the Biržai registry, idempotent.

Reads the municipality's editable data file (``cameras/data/birzai.toml``), makes the role groups,
the controller, the seven elderships and their cameras. A second run changes only what differs,
through the same audited services as the admin. ``--demo-users`` adds one user per persona.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cameras import services
from cameras.models import Camera, Controller, Site
from cameras.streams import StreamURLError
from safecam import roles

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "birzai.toml"
DEFAULT_DEMO_PASSWORD = "birzai-demo-2026"
SITE_FIELDS = ("name", "address", "latitude", "longitude", "contact_name", "contact_email", "contact_phone")
CAMERA_FIELDS = ("location", "latitude", "longitude", "purpose", "legal_basis", "retention_hours",
                 "retention_justification", "enabled", "installed_on", "sign_installed_on", "privacy_masking_notes")


def _value(field: str, raw: Any) -> Any:
    if field in ("latitude", "longitude") and raw is not None:
        return Decimal(str(raw)).quantize(Decimal("0.000001"))
    return raw


class Command(BaseCommand):
    help = "Creates or updates the Biržai elderships, cameras, role groups and controller (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--demo-users", action="store_true", help="also create one user per persona")
        parser.add_argument("--password", help=f"demo users' password (default {DEFAULT_DEMO_PASSWORD!r} "
                                               "for new users; existing users keep theirs unless given)")
        parser.add_argument("--data", type=Path, default=DATA_FILE, help="the registry data file (TOML)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = tomllib.loads(options["data"].read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CommandError(f"Cannot read the registry file {options['data']}: {exc}") from None
        try:
            with transaction.atomic():
                roles.roles_sync()
                self._controller(data.get("controller", {}))
                created, changed = self._registry(data)
                if options["demo_users"]:
                    self._demo_users(options["password"])
        except (StreamURLError, KeyError, ValueError) as exc:
            raise CommandError(f"The registry file {options['data']} has an error: {exc}") from None
        self.stdout.write(self.style.SUCCESS(
            f"Registry: {Site.objects.count()} sites, {Camera.objects.count()} cameras "
            f"({created} created, {changed} updated)."))

    def _controller(self, values: dict[str, Any]) -> None:
        if not values:
            return
        controller = Controller.objects.first() or Controller()
        for field, value in values.items():
            setattr(controller, field, value)
        services.controller_save(controller=controller, by=None)

    def _registry(self, data: dict[str, Any]) -> tuple[int, int]:
        defaults = data.get("defaults", {})
        created = changed = 0
        for site_data in data["sites"]:
            site = Site.objects.filter(slug=site_data["slug"]).first() or Site(slug=site_data["slug"])
            before = {f: getattr(site, f) for f in SITE_FIELDS}
            for field in SITE_FIELDS:
                if field in site_data:
                    setattr(site, field, _value(field, site_data[field]))
            if site.pk is None or before != {f: getattr(site, f) for f in SITE_FIELDS}:
                services.site_save(site=site, by=None)
            for camera_data in site_data.get("cameras", []):
                values = {**defaults, **camera_data}
                camera = Camera.objects.filter(site=site, name=values["name"]).first()
                if camera is None:
                    services.camera_create(site=site, name=values["name"], stream_url=values["stream_url"], by=None,
                                           **{f: _value(f, values[f]) for f in CAMERA_FIELDS if f in values})
                    created += 1
                    continue
                before = {f: getattr(camera, f) for f in CAMERA_FIELDS}
                old_url, old_credentials = camera.stream_url, camera.credentials
                for field in CAMERA_FIELDS:
                    if field in values:
                        setattr(camera, field, _value(field, values[field]))
                services.stream_url_apply(camera=camera, url=values["stream_url"])
                url_changed = (camera.stream_url, camera.credentials) != (old_url, old_credentials)
                if url_changed or before != {f: getattr(camera, f) for f in CAMERA_FIELDS}:
                    services.camera_save(camera=camera, by=None)
                    changed += 1
        return created, changed

    def _demo_users(self, password: str | None) -> None:
        user_model = get_user_model()
        groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLE_GROUPS)}
        people = [("public-order", roles.PUBLIC_ORDER_OFFICER, None),
                  ("dpo", roles.DATA_PROTECTION_OFFICER, None),
                  ("coordinator", roles.PROJECT_COORDINATOR, None)]
        people += [(f"spec-{site.slug}", roles.ELDERSHIP_SPECIALIST, site) for site in Site.objects.all()]
        for username, group_name, site in people:
            user = self._user(user_model, username, password)
            if not user.groups.filter(pk=groups[group_name].pk).exists():
                user.groups.add(groups[group_name])
            if site is not None:
                services.site_access_grant(user=user, site=site, actions=roles.SPECIALIST_SITE_ACTIONS, by=None)
        admin = self._user(user_model, "admin", password)
        if not (admin.is_superuser and admin.is_staff):
            admin.is_superuser = admin.is_staff = True
            admin.save(update_fields=["is_superuser", "is_staff"])
        self.stdout.write(f"Demo users: {', '.join(u for u, _g, _s in people)}, admin.")

    def _user(self, user_model: Any, username: str, password: str | None) -> Any:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            return user_model.objects.create_user(username=username, password=password or DEFAULT_DEMO_PASSWORD)
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user
