from django.urls import path

from atiende.channels.phone import views

urlpatterns = [
    path("cti/<str:channel_id>", views.webhook, name="cti-webhook"),
]
