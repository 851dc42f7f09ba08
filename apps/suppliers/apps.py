from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliersConfig(AppConfig):
    name = "apps.suppliers"
    label = "suppliers"
    verbose_name = _("Suppliers")

    def ready(self) -> None:
        from apps.tenancy.middleware import register_supplier_resolver

        from .scoping import staff_supplier_id

        register_supplier_resolver(staff_supplier_id)
