"""No door without a policy: every route of the URLconf says who may come in, and why.

A *door* is the declared policy of one view. It is written next to the view, and it is the code
that lets people in, so the declaration cannot drift from what the view does:

=================== ====================================================================================
policy              what the door does (a view that declares it needs nothing more for this part)
=================== ====================================================================================
``PUBLIC``          nothing: anyone, signed in or not (the request form, the notices, the liveness probe)
``SIGNED_TOKEN``    nothing at the door: a signed token in the URL is the permission, checked by the
                    view itself (playback links, delivery downloads, the request's confirmation)
``SIGNED_IN``       ``login_required``: anonymous visitors go to the login page
``RESTRICTED``      ``login_required``; the view fetches its object through ``restrict(user, action)``,
                    so an object the user may not see answers 404
``PERMISSION(p…)``  ``login_required``, then 404 unless the user has *any one* of the permissions
``REACH(fn)``       ``login_required``, then 404 unless ``fn(user)`` (``cameras_reachable``, …)
``ADMIN``           Django's admin site (``AdminSite.admin_view``: active staff only); the admin's
                    routes are declared in :data:`THIRD_PARTY` as one namespace
=================== ====================================================================================

How a view declares its door:

* A function view or a Django class-based view: ``@door(POLICY, reason="...")``, outermost, in
  place of ``@login_required``. For a class the door wraps ``dispatch``.
* A DRF view or viewset: ``reaches = staticmethod(fn)`` with :class:`~safecam.permissions.Reach`
  among its permission classes (the project's default) *is* its door, ``REACH(fn)``: it is enforced
  by ``Reach`` before the method is looked up. Any other DRF view says ``@door(...)`` on the class.
  There, ``PERMISSION``/``REACH`` set ``reaches`` (so ``Reach`` enforces them) and the walker checks
  that the view's permission classes really do what the door says: a signed-in door needs an
  ``IsAuthenticated``-derived class, a ``REACH`` door needs ``Reach``. The project default alone
  (signed in, nothing declared) is *not* a door: a route that relies on it is reported.
* Views of Django, DRF and drf-spectacular that the URLconf mounts (login, logout, password change,
  ``set_language``, the API root, the schema, the admin) are declared in one table,
  :data:`THIRD_PARTY`, with their reasons.

Why a decorator rather than a middleware that closes every route by default (Django 5.1's
``LoginRequiredMiddleware``): a default answers *signed in or not*, never *whose*; the door makes
every view say which of the policies above it follows, and review reads that next to the code.
A door is also inherited by subclasses (with its enforcement), never by a view that merely sits in
the same module.

``tests/safecam/test_doors.py`` walks the whole URLconf with :func:`routes` and fails on a route
without a door (or whose door does not match its permission classes), and on a route that no
persona matrix test marks with ``@pytest.mark.door("url-name")``. ``manage.py doors`` prints the
same walk as a table (route, URL name, view, door and reason) for review.

This module imports no app (STYLE.md): third-party views are named by their dotted paths.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.decorators import method_decorator
from rest_framework.permissions import IsAuthenticated

from safecam.permissions import Reach

DOOR_ATTR = "_door"


@dataclass(frozen=True)
class Policy:
    """Who may come in: a kind, and for ``PERMISSION``/``REACH`` what decides."""

    kind: str
    perms: tuple[str, ...] = ()
    reaches: Callable[[Any], bool] | None = field(default=None, compare=False)

    @property
    def needs_sign_in(self) -> bool:
        return self.kind not in ("public", "signed token")

    @property
    def gated(self) -> bool:
        """Whether a signed-in user may still be turned away at the door (with a 404)."""
        return self.kind in ("permission", "reach")

    def allows(self, user: Any) -> bool:
        """For ``PERMISSION``/``REACH``: whether a signed-in ``user`` is let through the door."""
        if self.kind == "permission":
            return any(user.has_perm(perm) for perm in self.perms)
        if self.kind == "reach":
            assert self.reaches is not None
            return bool(self.reaches(user))
        return True

    def __str__(self) -> str:
        if self.kind == "permission":
            return f"permission({' or '.join(self.perms)})"
        if self.kind == "reach":
            return f"reach({_dotted(self.reaches)})"
        return self.kind


PUBLIC = Policy("public")
SIGNED_TOKEN = Policy("signed token")
SIGNED_IN = Policy("signed in")
RESTRICTED = Policy("restricted")
ADMIN = Policy("admin")


def PERMISSION(*perms: str) -> Policy:  # noqa: N802 - reads as a policy, like the constants
    """Signed in and holding any one of ``perms`` (``"app.codename"``); 404 otherwise."""
    if not perms or not all(isinstance(p, str) and "." in p for p in perms):
        raise TypeError("PERMISSION() takes one or more 'app_label.codename' strings")
    return Policy("permission", perms=tuple(perms))


def REACH(reaches: Callable[[Any], bool]) -> Policy:  # noqa: N802
    """Signed in and ``reaches(user)`` true (the user can reach something behind it); 404 otherwise."""
    if not callable(reaches):
        raise TypeError("REACH() takes a callable user -> bool")
    return Policy("reach", reaches=reaches)


@dataclass(frozen=True)
class Door:
    """A view's declared policy and the reason for it (shown when the walker lists the routes)."""

    policy: Policy
    reason: str

    def __str__(self) -> str:
        return f"{self.policy}: {self.reason}"


def _gate(policy: Policy, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The door's own check, around a function (or ``dispatch``) taking the request first."""
    if not policy.needs_sign_in:
        return view
    if not policy.gated:
        return login_required(view)

    @functools.wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not policy.allows(request.user):
            raise Http404  # to someone who may not come in, the page does not exist
        return view(request, *args, **kwargs)

    return login_required(gated)


def door(policy: Policy, *, reason: str) -> Callable[[Any], Any]:
    """Declare (and enforce) the door of a view: ``@door(RESTRICTED, reason="...")``. See the module."""
    if not isinstance(policy, Policy):
        raise TypeError(f"door() takes a policy (PUBLIC, SIGNED_IN, PERMISSION(...), ...), not {policy!r}")
    if policy is ADMIN:
        raise TypeError("ADMIN is the admin site's own door; declare admin routes in THIRD_PARTY")
    if not reason or not reason.strip():
        raise TypeError("a door needs a reason: say who may come in and why")
    declared = Door(policy, reason.strip())

    def declare(view: Any) -> Any:
        if isinstance(view, type):
            return _declare_class(view, declared)
        gated = _gate(policy, view)
        setattr(gated, DOOR_ATTR, declared)
        return gated

    return declare


def _is_drf(cls: type) -> bool:
    from rest_framework.views import APIView

    return issubclass(cls, APIView)


def _declare_class(cls: type, declared: Door) -> type:
    policy = declared.policy
    if _is_drf(cls):
        if policy.gated:
            if cls.__dict__.get("reaches") is not None:
                raise TypeError(f"{cls.__qualname__} has `reaches` already: that is its door")
            cls.reaches = staticmethod(policy.allows)  # type: ignore[attr-defined]  # Reach enforces it
    else:
        def gate(dispatch: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return _gate(policy, dispatch)

        cls.dispatch = method_decorator(gate)(cls.dispatch)  # type: ignore[attr-defined]
    setattr(cls, DOOR_ATTR, declared)
    return cls


# --- views the project mounts but does not write -----------------------------------------------------

ADMIN_NAMESPACE = "admin"

THIRD_PARTY: dict[str, Door] = {
    # Accounts: login and logout only with no self-service reset (accounts are the municipality's).
    "django.contrib.auth.views.LoginView": Door(PUBLIC, "the login form; failed attempts are audited"),
    "django.contrib.auth.views.LogoutView": Door(PUBLIC, "POST only; ends whatever session the caller has"),
    "django.contrib.auth.views.PasswordChangeDoneView": Door(SIGNED_IN, "Django wraps it in login_required"),
    "django.views.i18n.set_language": Door(PUBLIC, "POST only; sets the language cookie, reads no data"),
    # The API's furniture.
    "rest_framework.routers.APIRootView": Door(SIGNED_IN, "a DefaultRouter's index of collection URLs, "
                                                          "no data; the project's default Reach"),
    "drf_spectacular.views.SpectacularAPIView": Door(PUBLIC, "the OpenAPI description (paths and fields, no "
                                                             "data) that CONTRACT.md publishes"),
    "drf_spectacular.views.SpectacularSwaggerSplitView": Door(PUBLIC, "the page (and its script, served apart for "
                                                                      "the CSP) that renders the schema above"),
    # The admin: every route of the namespace is checked below (_admin_door).
    "admin": Door(ADMIN, "Django's admin site: AdminSite.admin_view lets only active staff in"),
    "admin:login": Door(PUBLIC, "the admin's login form (authenticates and is audited like /accounts/login/)"),
    # Wrapped in admin_site.admin_view by their ModelAdmin's get_urls, which leaves no mark on them.
    "django.contrib.auth.admin.UserAdmin.user_change_password": Door(ADMIN, "UserAdmin: admin_view"),
    "guardian.admin.GuardedModelAdminMixin.obj_perms_manage_view": Door(ADMIN, "guardian: admin_view"),
    "guardian.admin.GuardedModelAdminMixin.obj_perms_manage_user_view": Door(ADMIN, "guardian: admin_view"),
    "guardian.admin.GuardedModelAdminMixin.obj_perms_manage_group_view": Door(ADMIN, "guardian: admin_view"),
}

# Namespaces whose routes one persona test covers by walking them all (``@pytest.mark.door("admin:*")``).
WALKED_NAMESPACES = frozenset({ADMIN_NAMESPACE})


# --- the walker ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """One pattern of the URLconf with the view it reaches and its door (None: no policy)."""

    route: str
    name: str | None
    namespace: str
    view: str
    door: Door | None
    problem: str | None

    @property
    def full_name(self) -> str | None:
        return f"{self.namespace}:{self.name}" if self.namespace and self.name else self.name

    def __str__(self) -> str:
        shown = f"{self.route or '(root)'} [{self.full_name or 'no name'}] → {self.view}"
        return f"{shown}: {self.problem}" if self.problem else f"{shown}: {self.door}"


def _dotted(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _view_of(callback: Any) -> tuple[Any, str]:
    """The object that carries the door (a class or the outermost function) and its readable name."""
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        actions = getattr(callback, "actions", None)
        suffix = f" {{{', '.join(f'{m}: {a}' for m, a in actions.items())}}}" if actions else ""
        return cls, _dotted(cls) + suffix
    return callback, _dotted(callback)  # functools.wraps keeps the view's own name through decorators


def _third_party(view: Any, callback: Any) -> Door | None:
    for candidate in (view, callback, getattr(callback, "__wrapped__", None)):
        if candidate is not None and _dotted(candidate) in THIRD_PARTY:
            return THIRD_PARTY[_dotted(candidate)]
    return None


def _drf_check(cls: type, door_: Door) -> str | None:
    """Whether a DRF view's permission classes do what its door says."""
    classes = list(getattr(cls, "permission_classes", []))
    policy = door_.policy
    if policy.gated and not any(isinstance(c, type) and issubclass(c, Reach) for c in classes):
        return "has `reaches` but Reach is not among its permission_classes, so nothing enforces it"
    if policy.needs_sign_in and not any(isinstance(c, type) and issubclass(c, IsAuthenticated) for c in classes):
        return (f"declares {policy} but its permission_classes {[c.__name__ for c in classes]} "
                "let anonymous callers in")
    return None


def _admin_door(name: str | None, callback: Any, view: Any) -> tuple[Door | None, str | None]:
    full = f"{ADMIN_NAMESPACE}:{name}" if name else None
    if full in THIRD_PARTY:
        return THIRD_PARTY[full], None
    known = _third_party(view, callback)
    if known is not None:
        return known, None
    if hasattr(callback, "admin_site") or hasattr(callback, "model_admin"):
        return THIRD_PARTY[ADMIN_NAMESPACE], None  # passed through AdminSite.admin_view
    return None, "under /admin/ but not wrapped in AdminSite.admin_view: no policy"


def _door_for(pattern: URLPattern, namespace: str) -> tuple[Door | None, str, str | None]:
    callback = pattern.callback
    view, shown = _view_of(callback)
    if namespace.split(":")[0] == ADMIN_NAMESPACE:
        found, problem = _admin_door(pattern.name, callback, view)
        return found, shown, problem
    declared: Door | None = getattr(view, DOOR_ATTR, None) or getattr(callback, DOOR_ATTR, None)
    is_drf = isinstance(view, type) and _is_drf(view)
    if declared is None and is_drf and getattr(view, "reaches", None) is not None:
        declared = Door(REACH(view.reaches), "its `reaches`, enforced by Reach")
    if declared is None:
        declared = _third_party(view, callback)
    if declared is None:
        return None, shown, "no policy"
    if is_drf:
        problem = _drf_check(view, declared)
        if problem:
            return declared, shown, problem
    if not pattern.name:
        return declared, shown, "has no URL name (persona tests mark routes by name)"
    return declared, shown, None


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        else:
            found, shown, problem = _door_for(pattern, namespace)
            yield Route(route=prefix + str(pattern.pattern), name=pattern.name, namespace=namespace, view=shown,
                        door=found, problem=problem)


def routes(urlconf: str | None = None) -> list[Route]:
    """Every pattern of the URLconf (nested includes, DRF routers and format suffixes too)."""
    return list(_walk(get_resolver(urlconf)))


def problems(urlconf: str | None = None) -> list[str]:
    """One readable line per route whose door is missing or does not match its view."""
    return [str(route) for route in routes(urlconf) if route.problem]
