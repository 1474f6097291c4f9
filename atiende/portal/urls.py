from django.urls import path
from django.views.generic import RedirectView

from atiende.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("canales", views.canales, name="canales"),
    path("canales/", RedirectView.as_view(pattern_name="portal:canales", permanent=True)),
]
