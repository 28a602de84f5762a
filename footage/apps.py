from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FootageConfig(AppConfig):
    """Recording, the footage index, retention and holds."""

    name = "footage"
    verbose_name = _("Footage")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from footage import signals  # noqa: F401  (worker start-up: sweep the local spool)
