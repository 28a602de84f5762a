from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CamerasConfig(AppConfig):
    """Sites (elderships), cameras and the controller."""

    name = "cameras"
    verbose_name = _("Camera registry")
    default_auto_field = "django.db.models.BigAutoField"
