from django.urls import path

from atiende.channels.whatsapp import views

urlpatterns = [path("whatsapp", views.webhook, name="whatsapp-webhook")]
