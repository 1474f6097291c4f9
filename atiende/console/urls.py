from django.urls import path

from atiende.console.views import case as case_views
from atiende.console.views import queues, search

app_name = "console"

urlpatterns = [
    path("", queues.home, name="home"),
    path("queues/counts", queues.counts, name="queue_counts"),
    path("queues/bulk", queues.bulk, name="queue_bulk"),
    path("search", search.search, name="search"),
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
]
