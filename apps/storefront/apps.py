from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StorefrontConfig(AppConfig):
    name = "apps.storefront"
    label = "storefront"
    verbose_name = _("Storefront")

    def ready(self) -> None:
        # TEMPORARY (issue 8): the programme app's handlers replace these; see handlers.py.
        from . import handlers  # noqa: F401 (subscribes to the events of the apps below)
