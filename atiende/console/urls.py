from django.urls import path

from atiende.console.views import home
from atiende.console.views import reports as report_views

app_name = "console"

urlpatterns = [
    path("", home.home, name="home"),
    path("informes", report_views.reports, name="reports"),
    path("informes/casos", report_views.cases, name="reports_cases"),
]
