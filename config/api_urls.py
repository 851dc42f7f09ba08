"""``/api/v1/``: each app contributes its own routes from ``apps/<app>/api/urls.py``.

- ``stores/<store>/…``: storefront and distributor endpoints of one store (``store`` = its slug);
- ``merchant/…``: the back office of the caller's merchant;
- ``supplier/…``: the back office of the caller's supplier;
- ``auth/token/`` and ``merchant-applications/``: public.
"""

from django.urls import include, path

from apps.accounts.api import urls as accounts
from apps.commissions.api import urls as commissions
from apps.distributors.api import urls as distributors
from apps.dropship.api import urls as dropship
from apps.finance.api import urls as finance
from apps.groupbuy.api import urls as groupbuy
from apps.live.api import urls as live
from apps.marketing.api import urls as marketing
from apps.materials.api import urls as materials
from apps.members.api import urls as members
from apps.merchants.api import urls as merchants
from apps.orders.api import urls as orders
from apps.payments.api import urls as payments
from apps.products.api import urls as products
from apps.programme.api import urls as programme
from apps.refunds.api import urls as refunds
from apps.suppliers.api import urls as suppliers
from apps.withdrawals.api import urls as withdrawals

app_name = "api"

store_urlpatterns = [
    *products.store_urlpatterns,
    *orders.store_urlpatterns,
    *payments.store_urlpatterns,
    *distributors.store_urlpatterns,
    *commissions.store_urlpatterns,
    *materials.store_urlpatterns,
    *refunds.store_urlpatterns,
    *withdrawals.store_urlpatterns,
    *programme.store_urlpatterns,
    *finance.store_urlpatterns,
    *live.store_urlpatterns,
    *marketing.store_urlpatterns,
    *members.store_urlpatterns,
    *groupbuy.store_urlpatterns,
]
merchant_urlpatterns = [
    *products.merchant_urlpatterns,
    *orders.merchant_urlpatterns,
    *distributors.merchant_urlpatterns,
    *commissions.merchant_urlpatterns,
    *materials.merchant_urlpatterns,
    *refunds.merchant_urlpatterns,
    *withdrawals.merchant_urlpatterns,
    *programme.merchant_urlpatterns,
    *finance.merchant_urlpatterns,
    *live.merchant_urlpatterns,
    *dropship.merchant_urlpatterns,
    *marketing.merchant_urlpatterns,
    *groupbuy.merchant_urlpatterns,
]
supplier_urlpatterns = [
    *suppliers.supplier_urlpatterns,
    *dropship.supplier_urlpatterns,
    *withdrawals.supplier_urlpatterns,
]

urlpatterns = [
    *accounts.public_urlpatterns,
    *merchants.public_urlpatterns,
    *suppliers.public_urlpatterns,
    path("stores/<slug:store>/", include(store_urlpatterns)),
    path("merchant/", include(merchant_urlpatterns)),
    path("supplier/", include(supplier_urlpatterns)),
]
