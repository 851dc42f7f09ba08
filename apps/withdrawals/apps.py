from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WithdrawalsConfig(AppConfig):
    name = "apps.withdrawals"
    label = "withdrawals"
    verbose_name = _("Withdrawals")

    def ready(self) -> None:
        from . import handlers  # noqa: F401 (enqueues the payout of an approved withdrawal)
