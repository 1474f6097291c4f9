from django.urls import path

from atiende.channels.whatsapp import views

urlpatterns = [
    path("whatsapp", views.webhook, name="whatsapp-webhook"),
    path("whatsapp/media/<str:token>/<str:filename>", views.media_link, name="whatsapp-media-link"),
]
