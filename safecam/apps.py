"""The ``safecam`` app: holds the audit trail's tables and wires authentication events into it."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafecamConfig(AppConfig):
    """Project-wide models (audit trail) and signal receivers."""

    name = "safecam"
    verbose_name = _("Audit trail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from safecam import receivers  # noqa: F401  (connects the receivers)
