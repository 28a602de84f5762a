"""One door to every object: scoped querysets.

Every model a user may or may not see gets a queryset class derived from
:class:`RestrictedQuerySet`, and every view, API viewset, serializer choice field and selector
starts from ``Model.objects.restrict(user, action)``. An object outside that queryset does not
exist for the user: views answer 404, exactly as for a missing object.

Actions are words, not permission codenames, so that callers say what they want to do:

========== ======================================================================
``view``   see the object in the registry (a site, a camera, its status)
``live``   watch a camera's live picture
``playback`` play recorded footage
``export`` take footage out (clips, still frames)
``hold``   place a hold that stops retention from deleting footage
``change`` edit the registry object
========== ======================================================================

Site-scoped models (cameras, and later segments, holds, incidents) inherit their rights from the
site through a foreign key; how is in ``cameras.querysets``. This module imports no app.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated

ACTIONS = ("view", "live", "playback", "export", "hold", "change")

# Site permission codename for each action (the app label is "cameras").
SITE_PERMISSIONS = {
    "view": "view_site",
    "live": "view_live",
    "playback": "view_recorded",
    "export": "export_footage",
    "hold": "place_hold",
    "change": "change_site",
}


class UnknownAction(ValueError):
    """A programming error: ``restrict()`` was asked for an action no policy knows."""


class RestrictedQuerySet(models.QuerySet):
    """A queryset with ``restrict(user, action)``; subclasses say how in ``_restrict``."""

    def restrict(self, user: Any, action: str) -> RestrictedQuerySet:
        if action not in ACTIONS:
            raise UnknownAction(f"Unknown action {action!r}; known: {', '.join(ACTIONS)}")
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self._restrict(user, action)

    def _restrict(self, user: Any, action: str) -> RestrictedQuerySet:
        raise NotImplementedError(f"{type(self).__name__} has no permission policy")


class Reach(IsAuthenticated):
    """DRF's default permission here (``REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]``): signed in,
    and, where a view says who its collection is for (``reaches = staticmethod(lambda user: ...)``),
    a 404 for anyone else: to a user who can reach nothing in it, a collection does not exist,
    exactly like an object they may not see. It runs before the method is looked up, so a wrong
    method does not tell them the route exists either."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        reaches = getattr(view, "reaches", None)
        if reaches is not None and not reaches(request.user):
            raise NotFound()
        return True


def can(user: Any, action: str, obj: models.Model) -> bool:
    """Whether ``user`` may do ``action`` on ``obj``, decided by the same door as every list."""
    manager = type(obj)._default_manager
    return manager.restrict(user, action).filter(pk=obj.pk).exists()


def allowed(user: Any, actions: tuple[str, ...], obj: models.Model) -> set[str]:
    """Which of ``actions`` ``user`` may do on ``obj``: ``can`` for several actions in one query (the
    camera page asks four), decided by the same door."""
    manager = type(obj)._default_manager
    checks = {f"may_{action}": models.Exists(manager.restrict(user, action).filter(pk=models.OuterRef("pk")))
              for action in actions}
    row = manager.filter(pk=obj.pk).annotate(**checks).values(*checks).first() or {}
    return {action for action in actions if row.get(f"may_{action}")}
