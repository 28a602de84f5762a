from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Usage statistics, the Interreg project record and the funder's PDF reports."""

    name = "reports"
    verbose_name = _("Statistics and funder reports")
    default_auto_field = "django.db.models.BigAutoField"
