from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessRequestsConfig(AppConfig):
    """GDPR requests, police disclosures, redaction, evidential exports and their delivery."""

    name = "access_requests"
    verbose_name = _("Requests and disclosures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The DPO watches footage only through a request: footage asks us, at every playback
        # request, whether the request still allows it (the higher app calls down, STYLE.md).
        from access_requests.selectors import request_viewing_allowed
        from footage.playback import purpose_register

        purpose_register("access_request", request_viewing_allowed)
