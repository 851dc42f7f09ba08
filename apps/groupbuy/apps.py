from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupBuyConfig(AppConfig):
    name = "apps.groupbuy"
    label = "groupbuy"
    verbose_name = _("Group buying")

    def ready(self) -> None:
        from . import (
            handlers,  # noqa: F401 (subscribes to the events of the apps below)
            ledger_checks,  # noqa: F401 (its rows' part of manage.py ledger_check)
        )
