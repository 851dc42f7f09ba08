from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DropshipConfig(AppConfig):
    name = "apps.dropship"
    label = "dropship"
    verbose_name = _("Drop-shipping")

    def ready(self) -> None:
        from . import (  # noqa: F401 (subscribes to the events below; registers ledger checks)
            handlers,
            ledger_checks,
        )
