from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django 5): ends the session
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person-detail"),
    # The admins' writes (MANAGE_PEOPLE, people they may manage): accounts.services writes and audits.
    path("people/new/", views.person_create, name="person-create"),
    path("people/places/", views.grant_place_options, name="grant-place-options"),
    path("people/<int:pk>/grants/new/", views.person_grant_add, name="person-grant-add"),
    path("people/<int:pk>/grants/<int:grant_id>/revoke/", views.person_grant_revoke, name="person-grant-revoke"),
    path("people/<int:pk>/password/", views.person_set_password, name="person-set-password"),
    path("people/<int:pk>/deactivate/", views.person_deactivate, name="person-deactivate"),
    path("people/<int:pk>/reactivate/", views.person_reactivate, name="person-reactivate"),
]
