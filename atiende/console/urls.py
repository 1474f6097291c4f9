from django.urls import path

from atiende.console.views import calls, collab, queues, search
from atiende.console.views import case as case_views
from atiende.console.views import notifications as notifications_views
from atiende.console.views import reports as report_views

app_name = "console"

urlpatterns = [
    path("", queues.home, name="home"),
    path("queues/counts", queues.counts, name="queue_counts"),
    path("queues/bulk", queues.bulk, name="queue_bulk"),
    path("search", search.search, name="search"),
    # cases/new before cases/<number>
    path("cases/new", collab.new_case, name="new_case"),
    path("cases/<str:number>", case_views.case, name="case"),
    path("cases/<str:number>/reply", case_views.reply, name="case_reply"),
    path(
        "cases/<str:number>/notes/<int:note_id>/confirm",
        case_views.confirm_note,
        name="case_confirm_note",
    ),
    path("cases/<str:number>/assign", case_views.assign, name="case_assign"),
    path("cases/<str:number>/fields", case_views.change_fields, name="case_fields"),
    path("cases/<str:number>/escalate", case_views.request_escalation, name="case_escalate"),
    path(
        "cases/<str:number>/escalations/<int:request_id>/decision",
        case_views.decide_escalation,
        name="case_decide_escalation",
    ),
    path(
        "cases/<str:number>/attachments/<int:attachment_id>",
        case_views.attachment,
        name="case_attachment",
    ),
    # collaboration (docs/console.md, "Trabajo en equipo")
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
    # the phone lines (docs/console.md, "Llamadas")
    path("llamadas/", calls.call_log, name="calls"),
    path("llamadas/en-vivo", calls.calls_live, name="calls_live"),
    path("llamadas/<int:call_id>/caso", calls.call_case, name="call_case"),
    path("llamadas/<int:call_id>/atendida", calls.call_done, name="call_done"),
    # the service manager's reports (docs/reports.md)
    path("informes", report_views.reports, name="reports"),
    path("informes/casos", report_views.cases, name="reports_cases"),
]
