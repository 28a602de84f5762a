"""``{% requests_due %}``: the DPO's open requests at a glance, for the overview page.

A template tag, so the cameras app's view does not import this higher app (STYLE.md's floors);
it asks the permission layer and renders nothing for anyone who does not handle requests.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("access_requests/_due_card.html", takes_context=True)
def requests_due(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    if not user.has_perm("access_requests.handle_request"):
        return {"show": False}
    from access_requests.selectors import dashboard

    rows = dashboard(user)
    return {"show": True, "open": len(rows), "overdue": sum(r.overdue for r in rows),
            "this_week": sum(r.due_this_week for r in rows), "next": rows[:3]}
