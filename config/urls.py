from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.programme.admin_reports import leaderboard_report

urlpatterns = [
    path(
        "admin/reports/leaderboard/",
        admin.site.admin_view(leaderboard_report),
        name="admin-leaderboard",
    ),
    path("admin/finance/", include("apps.finance.urls")),
    path("admin/dashboard/", include("apps.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("apps.accounts.urls")),
    path("merchants/", include("apps.merchants.urls")),
    path("suppliers/", include("apps.suppliers.urls")),
    path("pay/", include("apps.payments.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("apps.storefront.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "apps.core.api_errors.page_not_found"
