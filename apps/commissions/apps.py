from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "apps.commissions"
    label = "commissions"
    verbose_name = _("Commissions")

    def ready(self) -> None:
        from . import (
            handlers,  # noqa: F401 (subscribes to the events of the apps below)
            ledger_checks,  # noqa: F401 (its rows' part of manage.py ledger_check)
        )
