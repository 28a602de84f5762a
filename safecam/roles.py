"""The role groups and the model-level permissions each carries.

Roles are Django groups. A group's permissions here are *global* (on every object); the eldership
specialist's rights are instead granted per site as django-guardian object permissions (see
``cameras.services.site_access_grant``), which is what confines them to their own eldership.
Permissions are named as strings so this module imports no app; later apps add theirs here.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

ELDERSHIP_SPECIALIST = "Eldership specialist"
PUBLIC_ORDER_OFFICER = "Public order officer"
DATA_PROTECTION_OFFICER = "Data protection officer"
PROJECT_COORDINATOR = "Project coordinator"

ROLE_GROUPS: dict[str, list[str]] = {
    # Rights come per site, not from the group; the statistics of those sites.
    ELDERSHIP_SPECIALIST: ["reports.view_site_statistics"],
    # Every camera: registry, live, recorded, export, holds.
    PUBLIC_ORDER_OFFICER: [
        "cameras.view_site", "cameras.view_live", "cameras.view_recorded",
        "cameras.export_footage", "cameras.place_hold", "access_requests.file_disclosure",
        "reports.view_site_statistics",
    ],
    # The registry (purposes, legal bases, signs) and the audit trail; footage only through a request.
    DATA_PROTECTION_OFFICER: ["cameras.view_site", "cameras.place_hold", "safecam.view_auditevent",
                              "access_requests.handle_request", "reports.view_site_statistics"],
    # Statistics and funder reports only: no camera, no footage, no personal data.
    PROJECT_COORDINATOR: ["reports.view_statistics", "reports.manage_project"],
}

# What an eldership specialist may do on their own site (actions as in safecam.permissions).
SPECIALIST_SITE_ACTIONS = ("view", "live", "playback", "hold")


def _permissions(names: list[str]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query))
    if len(found) != len(names):
        missing = set(names) - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        raise LookupError(f"Permissions not found (are migrations applied?): {', '.join(sorted(missing))}")
    return found


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create the role groups and set their global permissions (idempotent; changes are audited)."""
    groups = {}
    for name, permission_names in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(permission_names))
        groups[name] = group
    return groups
