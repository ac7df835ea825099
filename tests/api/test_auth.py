"""Token and session authentication of the API: tokens, their expiry and revocation, the lockout
and the password rules on the API (the portal's side is in tests/accounts/test_identity.py)."""

import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_deactivated, user_set_password
from core.models import AuditEvent
from tests.api.helpers import ids
from tests.factories import TEST_PASSWORD

TOKEN = "/api/v1/auth/token/"
REVOKE = "/api/v1/auth/token/revoke/"
GOOD_PASSWORD = "Lianxi-2026-beiyuan"


def test_a_token_for_username_and_password_opens_the_api_with_the_users_scope(org):
    client = APIClient()
    response = client.post(TOKEN, {"username": "cadre1", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=org.users.cadre1).key == token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert ids(client.get("/api/v1/households/")) == {org.household1.pk}
    assert client.get(f"/api/v1/households/{org.household2.pk}/").status_code == 404


def test_asking_twice_gives_the_same_token(org):
    client = APIClient()
    first = client.post(TOKEN, {"username": "staff", "password": TEST_PASSWORD}).json()["token"]
    second = client.post(TOKEN, {"username": "staff", "password": TEST_PASSWORD}).json()["token"]
    assert first == second


def test_a_wrong_password_is_a_400_in_the_standard_shape_and_gives_no_token(org):
    response = APIClient().post(TOKEN, {"username": "cadre1", "password": "wrong-password"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["message"]
    assert "token" not in body
    assert not Token.objects.exists()


def test_a_missing_password_names_the_field(org):
    response = APIClient().post(TOKEN, {"username": "cadre1"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["fields"]


def test_an_inactive_user_gets_no_token_and_their_old_token_stops_working(org):
    token = Token.objects.create(user=org.users.staff)
    org.users.staff.is_active = False
    org.users.staff.save(update_fields=["is_active"])
    client = APIClient()
    assert client.post(TOKEN, {"username": "staff", "password": TEST_PASSWORD}).status_code == 400
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/households/").status_code in {401, 403}


def test_a_made_up_token_is_refused(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/v1/households/")
    assert response.status_code in {401, 403}
    assert set(response.json()) == {"code", "message", "fields"}


def test_the_token_endpoint_only_accepts_post(org):
    assert APIClient().get(TOKEN).status_code == 405


def test_a_session_login_works_for_the_api_too(org, login):
    client = login(org.users.cadre2)
    assert ids(client.get("/api/v1/households/")) == {org.household2.pk}


# --- lockout on the token endpoint --------------------------------------------------------------------


def _fail(client, username, times):
    for _attempt in range(times):
        response = client.post(TOKEN, {"username": username, "password": "wrong-password"}, format="json")
    return response


def test_five_failures_on_the_token_endpoint_lock_the_username_and_the_right_password_gets_429(org):
    client = APIClient()
    for _attempt in range(4):
        assert _fail(client, "cadre1", 1).status_code == 400
    assert _fail(client, "cadre1", 1).status_code == 429
    response = client.post(TOKEN, {"username": "cadre1", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "locked_out"
    assert re.search(r"请于 \d\d:\d\d 之后再试", body["message"])
    assert int(response["Retry-After"]) > 0
    assert not Token.objects.exists()


def test_a_lock_from_the_token_endpoint_holds_on_the_login_page_too(org, client):
    _fail(APIClient(), "cadre1", 5)
    response = client.post("/accounts/login/", {"username": "cadre1", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_token_failures_and_logins_are_audited(org):
    client = APIClient()
    _fail(client, "cadre1", 1)
    client.post(TOKEN, {"username": "cadre1", "password": TEST_PASSWORD}, format="json")
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert (failed.detail["username"], failed.detail["path"]) == ("cadre1", TOKEN)
    succeeded = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCEEDED)
    assert (succeeded.user, succeeded.detail["via"]) == (org.users.cadre1, "api_token")


# --- tokens expire, and end with a password change, deactivation or their own revoke --------------


def _token(username):
    response = APIClient().post(TOKEN, {"username": username, "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _with(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_says_when_it_expires(org):
    answer = _token("cadre1")
    token = Token.objects.get(key=answer["token"])
    assert parse_datetime(answer["expires_at"]) == token.created + timedelta(hours=12)


@override_settings(ZHUBAO_TOKEN_TTL_HOURS=12)
def test_an_expired_token_is_refused_with_its_code_and_a_new_login_gives_a_fresh_one(org):
    old = _token("cadre1")["token"]
    Token.objects.filter(key=old).update(created=timezone.now() - timedelta(hours=12, minutes=1))
    response = _with(old).get("/api/v1/households/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    new = _token("cadre1")["token"]
    assert new != old
    assert _with(new).get("/api/v1/households/").status_code == 200


def test_a_token_still_within_its_lifetime_is_kept(org):
    old = _token("cadre1")["token"]
    Token.objects.filter(key=old).update(created=timezone.now() - timedelta(hours=11))
    assert _token("cadre1")["token"] == old
    assert _with(old).get("/api/v1/households/").status_code == 200


def test_a_password_change_ends_the_token(org):
    token = _token("cadre1")["token"]
    user_set_password(actor=org.users.cadre1, user=org.users.cadre1, password="Mine-2026-chosen")
    assert _with(token).get("/api/v1/households/").status_code == 401


def test_deactivation_ends_the_token(org):
    token = _token("cadre1")["token"]
    org.users.cadre1.is_active = False
    org.users.cadre1.save(update_fields=["is_active"])
    user_deactivated(actor=org.users.admin, user=org.users.cadre1)
    assert not Token.objects.filter(key=token).exists()


def test_a_user_revokes_their_own_token(org):
    token = _token("cadre1")["token"]
    client = _with(token)
    assert client.post(REVOKE).status_code == 204
    assert not Token.objects.filter(key=token).exists()
    assert client.get("/api/v1/households/").status_code == 401
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT)
    assert (event.user, event.detail["reason"]) == (org.users.cadre1, "api_token_revoked")


def test_revoking_needs_a_login(org):
    assert APIClient().post(REVOKE).status_code in {401, 403}


# --- a password set by someone else ------------------------------------------------------------------


@pytest.fixture
def must_change(org):
    user_set_password(actor=org.users.admin, user=org.users.cadre1, password=GOOD_PASSWORD)
    org.users.cadre1.refresh_from_db()
    return org.users.cadre1


def test_the_token_endpoint_refuses_someone_who_must_change_their_password(org, must_change):
    response = APIClient().post(TOKEN, {"username": "cadre1", "password": GOOD_PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"
    assert not Token.objects.exists()


def test_the_api_answers_someone_who_must_change_their_password_403_except_revoking(org, must_change, api):
    client = api(must_change)
    response = client.get("/api/v1/households/")
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"
    token = Token.objects.create(user=must_change)
    assert _with(token.key).get("/api/v1/households/").json()["code"] == "password_change_required"
    assert _with(token.key).post(REVOKE).status_code == 204


# --- password rules on the people API -------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["Short1-a", "lowercase-and-dashes", "newcadre-Spring-26", "Password123"])
def test_creating_a_person_with_a_weak_password_is_a_400_naming_the_field(org, api, weak):
    payload = {"username": "newcadre", "password": weak, "grant": {"role": "community_staff", "org_node": org.building1.pk}}
    response = api(org.users.admin).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "password" in body["fields"]
    assert re.search(r"[\u4e00-\u9fff]", body["fields"]["password"][0])  # in Chinese
    assert not User.objects.filter(username="newcadre").exists()


def test_a_person_created_through_the_api_changes_the_password_at_first_login(org, api):
    payload = {
        "username": "newcadre",
        "password": GOOD_PASSWORD,
        "grant": {"role": "community_staff", "org_node": org.building1.pk},
    }
    assert api(org.users.admin).post("/api/v1/users/", payload, format="json").status_code == 201
    assert User.objects.get(username="newcadre").must_change_password
