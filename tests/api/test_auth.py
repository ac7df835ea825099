"""Token and session authentication of the API."""

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.helpers import ids
from tests.factories import TEST_PASSWORD

TOKEN = "/api/v1/auth/token/"


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
