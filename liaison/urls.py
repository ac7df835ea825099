"""The pairing pages (三级包联), for the team's keepers (liaison.access.MANAGE_PAIRING)."""

from django.urls import path

from . import views

app_name = "liaison"

urlpatterns = [
    path("", views.index, name="index"),
    path("teams/<int:pk>/", views.team, name="team"),
    path("teams/<int:pk>/coverage/", views.coverage, name="coverage"),
    path("teams/<int:pk>/rule/", views.team_edit, name="team-edit"),
    path("teams/<int:pk>/groups/new/", views.group_create, name="group-create"),
    path("teams/<int:pk>/pair/", views.pair, name="pair"),
    path("teams/<int:pk>/hand-over/", views.hand_over, name="hand-over"),
    path("groups/<int:pk>/", views.group, name="group"),
    path("groups/<int:pk>/leader/", views.group_leader, name="group-leader"),
    path("groups/<int:pk>/compounds/new/", views.group_compound_add, name="group-compound-add"),
    path("groups/<int:pk>/members/new/", views.group_member_add, name="group-member-add"),
    path("groups/<int:pk>/members/new-account/", views.group_member_create, name="group-member-create"),
    path("memberships/<int:pk>/leave/", views.member_leave, name="member-leave"),
    path("pairings/<int:pk>/end/", views.pairing_end, name="pairing-end"),
]
