from django.urls import path

from atiende.console.views import home

app_name = "console"

urlpatterns = [
    path("", home.home, name="home"),
]
