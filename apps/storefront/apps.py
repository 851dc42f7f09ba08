from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class StorefrontConfig(AppConfig):
    name = "apps.storefront"
    label = "storefront"
    verbose_name = _("Storefront")

    def ready(self) -> None:
        # TEMPORARY (issue 8): the programme app's handlers replace these (see handlers.py); they
        # stand aside on their own once apps.programme is installed, so nothing runs twice.
        if not apps.is_installed("apps.programme"):
            from . import handlers  # noqa: F401 (subscribes to the events of the apps below)
