from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributorsConfig(AppConfig):
    name = "apps.distributors"
    label = "distributors"
    verbose_name = _("Distributors")

    def ready(self) -> None:
        from . import handlers  # noqa: F401 (its own services' asynchronous work)
