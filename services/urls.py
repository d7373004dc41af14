from django.urls import path
from django.views.generic import RedirectView

from services import call_views, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="service_list"), name="home"),
    path("health", views.health, name="health"),
    path("services/", views.service_list, name="service_list"),
    path("services/new/", views.service_create, name="service_create"),
    path("services/<slug:slug>/", views.service_detail, name="service_detail"),
    path("services/<slug:slug>/edit/", views.service_edit, name="service_edit"),
    path("services/<slug:slug>/delete/", views.service_delete, name="service_delete"),
    path("services/<slug:slug>/builder/", call_views.service_builder, name="service_builder"),
    path("calls/", call_views.call_list, name="call_list"),
    path("calls/<int:id>/", call_views.call_detail, name="call_detail"),
    path("calls/<int:id>/send-again/", call_views.call_send_again, name="call_send_again"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/members/", views.team_member_add, name="team_member_add"),
    path("teams/<slug:slug>/members/<str:username>/role/", views.team_member_role,
         name="team_member_role"),
    path("teams/<slug:slug>/members/<str:username>/remove/", views.team_member_remove,
         name="team_member_remove"),
]
