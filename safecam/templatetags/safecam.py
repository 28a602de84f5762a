"""Template helpers. Templates ask the permission layer; they never re-implement a rule."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from safecam import permissions, roles

register = template.Library()

ROLE_LABELS = {
    roles.ELDERSHIP_SPECIALIST: _("Eldership specialist"),
    roles.PUBLIC_ORDER_OFFICER: _("Public order officer"),
    roles.DATA_PROTECTION_OFFICER: _("Data protection officer"),
    roles.PROJECT_COORDINATOR: _("Project coordinator"),
}


@register.simple_tag(takes_context=True)
def can(context: dict[str, Any], action: str, obj: Any) -> bool:
    """``{% can "playback" camera as may_play %}``: the same door as every queryset."""
    return permissions.can(context["request"].user, action, obj)


@register.filter
def role_labels(user: Any) -> str:
    """The user's roles in the current language."""
    if getattr(user, "is_superuser", False):
        return str(_("Administrator"))
    names = [str(ROLE_LABELS.get(group.name, group.name)) for group in user.groups.all()]
    return ", ".join(names)
