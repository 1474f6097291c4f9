from django.urls import path

from atiende.console.views import case, home

app_name = "console"

urlpatterns = [
    path("", home.home, name="home"),
    path("cases/<str:number>", case.case, name="case"),
    path("cases/<str:number>/reply", case.reply, name="case_reply"),
    path(
        "cases/<str:number>/notes/<int:note_id>/confirm",
        case.confirm_note,
        name="case_confirm_note",
    ),
    path("cases/<str:number>/assign", case.assign, name="case_assign"),
    path("cases/<str:number>/fields", case.change_fields, name="case_fields"),
    path("cases/<str:number>/escalate", case.request_escalation, name="case_escalate"),
    path(
        "cases/<str:number>/escalations/<int:request_id>/decision",
        case.decide_escalation,
        name="case_decide_escalation",
    ),
    path(
        "cases/<str:number>/attachments/<int:attachment_id>",
        case.attachment,
        name="case_attachment",
    ),
]
