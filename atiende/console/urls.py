from django.urls import path

from atiende.console.views import collab, home
from atiende.console.views import notifications as notifications_views

app_name = "console"

urlpatterns = [
    path("", home.home, name="home"),
    # collaboration (docs/console.md, "Trabajo en equipo"); cases/new before cases/<number>
    path("cases/new", collab.new_case, name="new_case"),
    path("cases/<str:number>/presence", collab.presence, name="case_presence"),
    path("cases/<str:number>/merge", collab.merge, name="case_merge"),
    path("cases/<str:number>/incident", collab.link_incident, name="case_link_incident"),
    path("cases/<str:number>/incident/unlink", collab.unlink_incident, name="case_unlink_incident"),
    path("incidents/<str:number>", collab.incident, name="incident"),
    path("notificaciones", notifications_views.page, name="notifications"),
    path("notificaciones/campana", notifications_views.bell, name="notifications_bell"),
    path("notificaciones/leidas", notifications_views.mark_all_read, name="notifications_read_all"),
    path(
        "notificaciones/preferencias", notifications_views.preferences, name="notifications_prefs"
    ),
    path("notificaciones/<int:pk>/leida", notifications_views.mark_read, name="notification_read"),
]
