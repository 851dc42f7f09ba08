from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammeConfig(AppConfig):
    name = "apps.programme"
    label = "programme"
    verbose_name = _("Distribution programme")

    def ready(self) -> None:
        from . import handlers  # noqa: F401 (subscribes to the events of the apps below)
