from django.urls import path
from django.views.generic import RedirectView

from services.views import (
    audit,
    builder,
    chat,
    health,
    history,
    keys,
    language,
    runs,
    services,
    status,
    teams,
)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="service_list"), name="home"),
    path("health", health.health, name="health"),
    # Logging in brings back a person's language; the switcher is on every page.
    path("accounts/login/", language.LoginView.as_view(), name="login"),
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("services/", services.service_list, name="service_list"),
    path("services/new/", services.service_create, name="service_create"),
    path("services/<slug:slug>/", services.service_detail, name="service_detail"),
    path("services/<slug:slug>/edit/", services.service_edit, name="service_edit"),
    path("services/<slug:slug>/delete/", services.service_delete, name="service_delete"),
    path("services/<slug:slug>/builder/", builder.service_builder, name="service_builder"),
    path("services/<slug:slug>/chat/", chat.service_chat, name="service_chat"),
    path("calls/", history.call_list, name="call_list"),
    path("calls/<int:id>/", history.call_detail, name="call_detail"),
    path("calls/<int:id>/send-again/", history.call_send_again, name="call_send_again"),
    path("runs/<int:id>/", runs.run_detail, name="run_detail"),
    path("audit/", audit.audit_list, name="audit_list"),
    path("status/", status.status_board, name="status_board"),
    path("account/keys/", keys.key_list, name="account_keys"),
    path("account/keys/<int:id>/revoke/", keys.key_revoke, name="account_key_revoke"),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/new/", teams.team_create, name="team_create"),
    path("teams/<slug:slug>/", teams.team_detail, name="team_detail"),
    path("teams/<slug:slug>/members/", teams.team_member_add, name="team_member_add"),
    path("teams/<slug:slug>/members/<str:username>/role/", teams.team_member_role,
         name="team_member_role"),
    path("teams/<slug:slug>/members/<str:username>/remove/", teams.team_member_remove,
         name="team_member_remove"),
]
