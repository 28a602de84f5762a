"""A throw-away URLconf for tests/safecam/test_doors.py: routes whose doors are missing or wrong, beside
ones that are right, so the walker is seen to fail (and the doors to let in exactly whom they say)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views import View
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from safecam.doors import PERMISSION, PUBLIC, REACH, RESTRICTED, SIGNED_IN, door


def forgotten(request: HttpRequest) -> HttpResponse:
    """A view someone added without a door."""
    return HttpResponse("open")


@door(PUBLIC, reason="a test page anyone may read")
def public_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("public")


@door(SIGNED_IN, reason="a test page for the signed-in")
def signed_in_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("signed in")


@door(PERMISSION("access_requests.handle_request"), reason="a test page for the DPO")
def dpo_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("dpo")


@door(REACH(lambda user: user.username.startswith("spec_")), reason="a test page for the specialists")
def specialists_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("specialists")


@door(PERMISSION("access_requests.handle_request"), reason="a test class-based page for the DPO")
class DpoClassPage(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("dpo class")


class DefaultOnly(APIView):
    """Relies on the project's default permission alone: not a door."""

    def get(self, request: Any) -> Response:
        return Response({})


@door(SIGNED_IN, reason="says signed in, but lets everyone in")
class LyingDoor(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Any) -> Response:
        return Response({})


class UnenforcedReach(APIView):
    """Has ``reaches`` but no Reach to enforce it."""

    permission_classes = [AllowAny]
    reaches = staticmethod(lambda user: False)

    def get(self, request: Any) -> Response:
        return Response({})


@door(PERMISSION("access_requests.handle_request"), reason="says the DPO's, but nothing checks the permission")
class PermissionWithoutReach(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Any) -> Response:
        return Response({})


@door(PERMISSION("access_requests.handle_request"), reason="a test API for the DPO")
class DpoApi(APIView):
    def get(self, request: Any) -> Response:
        return Response({"ok": True})


@door(RESTRICTED, reason="a test API whose objects would come through restrict()")
class RestrictedApi(APIView):
    def get(self, request: Any) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("forgotten/", forgotten, name="forgotten"),
    path("public/", public_page, name="public"),
    path("signed-in/", signed_in_page, name="signed-in"),
    path("dpo/", dpo_page, name="dpo"),
    path("specialists/", specialists_page, name="specialists"),
    path("dpo-class/", DpoClassPage.as_view(), name="dpo-class"),
    path("nameless/", public_page),
    path("api/default/", DefaultOnly.as_view(), name="api-default"),
    path("api/lying/", LyingDoor.as_view(), name="api-lying"),
    path("api/unenforced/", UnenforcedReach.as_view(), name="api-unenforced"),
    path("api/unchecked/", PermissionWithoutReach.as_view(), name="api-unchecked"),
    path("api/dpo/", DpoApi.as_view(), name="api-dpo"),
    path("api/restricted/", RestrictedApi.as_view(), name="api-restricted"),
]


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponse("not found", status=404)  # the project's 404 page links to routes this URLconf lacks


handler404 = not_found
