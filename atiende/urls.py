from django.urls import include, path

from atiende import adminsite
from atiende.api.main import api

handler500 = "atiende.core.dbfaults.server_error"  # an unreachable database: 503 (see there)

urlpatterns = [
    path("admin/", adminsite.load().urls),
    path("accounts/", include("atiende.accounts.signin.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("webhooks/", include("atiende.channels.urls")),
    path("console/", include("atiende.console.urls")),
    path("", include("atiende.ops.urls")),
    path("", include("atiende.portal.urls")),
]
