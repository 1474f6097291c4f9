"""Provider webhooks, one include per channel adapter (each adapter owns its urls.py)."""

from django.urls import include, path

urlpatterns = [
    path("", include("atiende.channels.whatsapp.urls")),
    path("", include("atiende.channels.phone.urls")),
]
