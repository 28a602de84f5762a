"""Site-scoped permission policy: rights are granted on a site and inherited through foreign keys.

A specialist holds django-guardian object permissions on their eldership's ``Site`` row; the
Public Order department holds the same permissions globally (on the model, through its group).
``SiteScopedQuerySet`` turns that into one subquery on the site's primary key, so cameras and,
later, millions of segment rows need no permission rows of their own and the query count of a
list does not grow with its length.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.apps import apps
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from safecam.permissions import SITE_PERMISSIONS, RestrictedQuerySet


def sites_for(user: Any, action: str) -> QuerySet:
    """The sites on which ``user`` holds the permission behind ``action`` (global or per object)."""
    site_model = apps.get_model("cameras", "Site")
    return get_objects_for_user(
        user, f"cameras.{SITE_PERMISSIONS[action]}", klass=site_model,
        use_groups=True, accept_global_perms=True, with_superuser=True,
    )


class SiteScopedQuerySet(RestrictedQuerySet):
    """Rows visible when the user holds the action's permission on the row's site."""

    # Path from this model to its Site ("" when the model is Site itself).
    site_path: ClassVar[str] = "site"

    def _restrict(self, user: Any, action: str) -> SiteScopedQuerySet:
        sites = sites_for(user, action)
        if self.site_path == "":
            return self.filter(pk__in=sites.values("pk"))
        return self.filter(**{f"{self.site_path}__in": sites.values("pk")})
