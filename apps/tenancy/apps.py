from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "apps.tenancy"
    label = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import tasks  # noqa: F401  (carries each task's scope in its message)
        from .scope import connection_prepare

        connection_created.connect(connection_prepare, dispatch_uid="fenxiao-tenancy-scope")
