from django.contrib import admin
from django.urls import path

from . import supplier_views, views

app_name = "finance"

urlpatterns = [
    path("", admin.site.admin_view(views.index), name="index"),
    path("statement/", admin.site.admin_view(views.statement), name="statement"),
    path("payable/", admin.site.admin_view(views.payable), name="payable"),
    path("withdrawals/", admin.site.admin_view(views.withdrawals), name="withdrawals"),
    path("reconciliation/", admin.site.admin_view(views.reconciliation), name="reconciliation"),
    path(
        "supplier/",
        admin.site.admin_view(supplier_views.supplier_money),
        name="supplier-money",
    ),
]
