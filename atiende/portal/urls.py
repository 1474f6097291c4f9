from django.urls import path
from django.views.generic import RedirectView

from atiende.portal import customer_views as portal
from atiende.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("canales", views.canales, name="canales"),
    path("canales/", RedirectView.as_view(pattern_name="portal:canales", permanent=True)),
    # The customers' self-service portal (#14).
    path("portal/", portal.my_cases, name="cases"),
    path("portal/cases/new", portal.new_case, name="new_case"),
    path("portal/cases/<str:number>", portal.case_page, name="case"),
    path("portal/cases/<str:number>/comment", portal.comment, name="comment"),
    path("portal/cases/<str:number>/escalate", portal.escalate, name="escalate"),
    path("portal/cases/<str:number>/reopen", portal.reopen, name="reopen"),
    path("portal/cases/<str:number>/close", portal.close, name="close"),
    path("portal/cases/<str:number>/rate", portal.rate, name="rate"),
    path("portal/cases/<str:number>/followers", portal.add_follower, name="add_follower"),
    path(
        "portal/cases/<str:number>/followers/<int:contact_id>/remove",
        portal.remove_follower,
        name="remove_follower",
    ),
    path(
        "portal/cases/<str:number>/attachments/<int:attachment_id>",
        portal.download,
        name="download",
    ),
    path("portal/invitacion/<str:token>", portal.invitation, name="invitation"),
    path("portal/registro", portal.registration, name="registration"),
]
