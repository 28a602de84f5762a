"""REST API for the registry: ``/api/v1/sites/`` and ``/api/v1/cameras/``, read-only, scoped by ``restrict()``.

The registry is edited in the admin (through the same services); the API serves the portal's
pages, scripts and later capabilities. Serializers name every field explicitly, so the encrypted
credentials can never slip into a response.
"""

from __future__ import annotations

import django_filters
from django.urls import include, path
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.routers import DefaultRouter

from cameras import selectors
from cameras.models import Camera, CameraStatus, Site
from safecam.doors import RESTRICTED, door


class SiteSerializer(serializers.ModelSerializer):
    camera_count = serializers.IntegerField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:site-detail", lookup_field="slug")

    class Meta:
        model = Site
        fields = ["url", "slug", "name", "address", "latitude", "longitude", "contact_name",
                  "contact_email", "contact_phone", "camera_count"]


class CameraSerializer(serializers.ModelSerializer):
    uuid = serializers.UUIDField(source="public_id", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:camera-detail", lookup_field="public_id",
                                               lookup_url_kwarg="uuid")
    site = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)
    status = serializers.SerializerMethodField()
    # A camera that never recorded has no health row yet: null (DRF gives None for a missing related
    # object whatever the field's default), except the bytes stored, which are then 0.
    latest_footage = serializers.DateTimeField(source="health.last_segment_end", read_only=True, allow_null=True)
    coverage_today = serializers.FloatField(source="health.coverage_today", read_only=True, allow_null=True)
    stored_bytes = serializers.SerializerMethodField()
    oldest_footage = serializers.DateTimeField(source="health.oldest_footage", read_only=True, allow_null=True)

    class Meta:
        model = Camera
        fields = ["url", "uuid", "name", "site", "site_name", "location", "latitude", "longitude", "stream_url",
                  "has_credentials", "purpose", "legal_basis", "retention_hours", "retention_justification",
                  "enabled", "status", "latest_footage", "coverage_today", "stored_bytes", "oldest_footage",
                  "installed_on", "sign_installed_on", "privacy_masking_notes", "created_at", "updated_at"]

    def get_stored_bytes(self, camera: Camera) -> int:
        health = getattr(camera, "health", None)
        return health.stored_bytes if health is not None else 0

    @extend_schema_field(serializers.ChoiceField(choices=CameraStatus.choices))
    def get_status(self, camera: Camera) -> str:
        return str(selectors.camera_status(camera))


def _visible_sites(request: object) -> object:
    # The filter's choices come through the same door: an unseen site is "not a valid choice".
    return Site.objects.restrict(getattr(request, "user", None), "view")


class CameraFilter(django_filters.FilterSet):
    site = django_filters.ModelChoiceFilter(field_name="site", to_field_name="slug", queryset=_visible_sites,
                                            label="Site slug")

    class Meta:
        model = Camera
        fields = ["site", "enabled"]


@door(RESTRICTED, reason="signed in; the sites through restrict(user, 'view'), others 404")
class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """Elderships the caller may see, with the number of their cameras visible to the caller."""

    serializer_class = SiteSerializer
    lookup_field = "slug"
    # A slug's characters only: a NUL byte reaching PostgreSQL's text comparison is a DataError (a 500).
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    search_fields = ["name", "address"]
    ordering_fields = ["name"]

    def get_queryset(self):  # type: ignore[override]
        return selectors.sites_visible(self.request.user).order_by("name")


@door(RESTRICTED, reason="signed in; the cameras through restrict(user, 'view'), others 404")
class CameraViewSet(viewsets.ReadOnlyModelViewSet):
    """Cameras the caller may see. Addressed by UUID; others answer 404."""

    serializer_class = CameraSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filterset_class = CameraFilter
    search_fields = ["name", "location", "site__name"]
    ordering_fields = ["name", "site__name", "retention_hours"]

    def get_queryset(self):  # type: ignore[override]
        return selectors.cameras_visible(self.request.user)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sites", SiteViewSet, basename="site")
router.register("cameras", CameraViewSet, basename="camera")

urlpatterns = [path("", include(router.urls))]
