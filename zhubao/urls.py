from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core.views import favicon, healthz
from grid.views import home

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("imports/", include("grid.import_urls")),
    path("exports/", include("core.export_urls")),
    path("pairing/ledger/", include("liaison.ledger_urls")),
    path("pairing/", include("liaison.urls")),
    path("api/", include("zhubao.api_urls")),
    path("", home, name="home"),
    path("", include("grid.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
