"""Who gets in on the portal: lockout, password rules, the first-login change, idle sessions, the audit log.

The API's side (the token endpoint, token expiry and revocation) is in tests/api/test_auth.py.
"""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token

from accounts.middleware import LAST_ACTIVITY
from accounts.models import RoleGrant, User
from accounts.services import user_create, user_set_password, user_unlock
from core.errors import ZhubaoError
from core.models import AuditEvent
from tests.factories import UserFactory, grant

LOGIN = "/accounts/login/"
GOOD_PASSWORD = "Lianxi-2026-beiyuan"
WRONG = "wrong-password"
# The production setting ZHUBAO_PROXY_COUNT=1: one nginx in front, which appends the client's address.
BEHIND_ONE_PROXY = override_settings(
    AXES_IPWARE_META_PRECEDENCE_ORDER=("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"),
    AXES_IPWARE_PROXY_COUNT=0,
    IPWARE_STRICT=False,
)
PROXY = "10.0.0.2"


def log_in(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def fail(client, username, times=1, **extra):
    for _attempt in range(times):
        response = log_in(client, username, WRONG, **extra)
    return response


def minutes_pass(minutes: float) -> None:
    """Move every recorded failure, lock and unlock back in time, as if the minutes had passed."""
    delta = timedelta(minutes=minutes)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - delta)
    AuditEvent.objects.update(created_at=F("created_at") - delta)


def logged_in_as(client):
    return client.session.get("_auth_user_id")


# --- lockout ---------------------------------------------------------------------------------------


def test_five_failed_logins_lock_the_username_and_the_right_password_is_then_refused_saying_when(org, client, password):
    for _attempt in range(4):
        assert log_in(client, "cadre1", WRONG).status_code == 200
    assert log_in(client, "cadre1", WRONG).status_code == 429  # the 5th locks

    response = log_in(client, "cadre1", password)
    assert response.status_code == 429
    assert not logged_in_as(client)
    content = response.content.decode()
    assert "登录失败次数过多" in content and "联系管理员解锁" in content
    assert re.search(r"请于 \d\d:\d\d 之后再试", content)
    assert 540 <= int(response["Retry-After"]) <= 600


def test_four_failed_logins_do_not_lock(org, client, password):
    fail(client, "cadre1", times=4)
    assert log_in(client, "cadre1", password).status_code == 302
    assert logged_in_as(client) == str(org.users.cadre1.pk)


def test_a_lock_ends_ten_minutes_after_the_fifth_failure(org, client, password):
    fail(client, "cadre1", times=5)
    minutes_pass(9)
    assert log_in(client, "cadre1", password).status_code == 429  # refused, and not counted
    minutes_pass(1.05)
    assert log_in(client, "cadre1", password).status_code == 302
    assert logged_in_as(client) == str(org.users.cadre1.pk)


def test_after_a_lock_ends_the_count_starts_afresh(org, client, password):
    fail(client, "cadre1", times=5)
    minutes_pass(10.05)
    fail(client, "cadre1", times=4)
    assert log_in(client, "cadre1", password).status_code == 302


def test_failures_spread_over_more_than_ten_minutes_do_not_lock(org, client, password):
    # Five failures three minutes apart: twelve minutes in all, never five within ten.
    for _attempt in range(5):
        fail(client, "cadre1")
        minutes_pass(3)
    assert log_in(client, "cadre1", password).status_code == 302
    assert logged_in_as(client) == str(org.users.cadre1.pk)


def test_five_failures_within_ten_minutes_lock_even_when_earlier_ones_have_aged_out(org, client, password):
    fail(client, "cadre1", times=2)
    minutes_pass(11)  # these two no longer count
    for _attempt in range(4):
        fail(client, "cadre1")
        minutes_pass(2)
    assert log_in(client, "cadre1", password).status_code == 302  # four in the window
    client.post(reverse("accounts:logout"))
    fail(client, "cadre1", times=5)
    assert log_in(client, "cadre1", password).status_code == 429


def test_a_lock_is_of_the_username_only(org, client, password):
    fail(client, "cadre1", times=5)
    assert log_in(client, "cadre2", password).status_code == 302  # same address, another username


@BEHIND_ONE_PROXY
def test_behind_the_proxy_the_client_is_locked_by_username_and_the_proxy_address_locks_no_one(org, client, password):
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    fail(client, "cadre1", times=5, **attacker)
    assert log_in(client, "cadre1", password, **attacker).status_code == 429
    attempt = AccessAttempt.objects.get(username="cadre1")
    assert attempt.ip_address == "198.51.100.7"
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, detail__username="cadre1")
    assert set(failed.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    # Everyone else comes through the same proxy and logs in.
    neighbour = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.8"}
    assert log_in(client, "cadre2", password, **neighbour).status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCEEDED, user=org.users.cadre2)
    assert event.ip_address == "198.51.100.8"


@BEHIND_ONE_PROXY
def test_behind_the_proxy_an_address_the_client_forges_in_the_header_is_ignored(org, client):
    fail(client, "cadre1", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert AccessAttempt.objects.get(username="cadre1").ip_address == "198.51.100.7"


def test_without_a_proxy_the_forwarded_header_is_not_believed(org, client):
    fail(client, "cadre1", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AccessAttempt.objects.get(username="cadre1").ip_address == "192.0.2.10"


def test_the_admin_login_page_is_locked_too(org, client, password):
    fail(client, "admin", times=5)
    response = client.post(reverse("admin:login"), {"username": "admin", "password": password, "next": "/admin/"})
    assert response.status_code == 429


def test_a_global_admin_unlocks_a_username_in_the_admin_and_its_count_starts_afresh(org, client, password):
    fail(client, "cadre1", times=5)
    client.force_login(org.users.admin)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_logins", "_selected_action": [org.users.cadre1.pk]},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UNLOCKED, object_id=str(org.users.cadre1.pk)).exists()
    client.post(reverse("accounts:logout"))
    fail(client, "cadre1", times=4)  # the five before the unlock no longer count
    assert log_in(client, "cadre1", password).status_code == 302


@pytest.fixture
def community_admin(org):
    admin = UserFactory(username="beiyuanadmin")
    grant(admin, "system_admin", node=org.community)
    return admin


def test_only_a_global_admin_is_offered_the_unlock_action_and_may_unlock(org, client, community_admin):
    client.force_login(community_admin)
    page = client.get(reverse("admin:accounts_user_changelist"))
    assert page.status_code == 200
    assert "unlock_logins" not in page.content.decode()
    with pytest.raises(ZhubaoError):
        user_unlock(actor=community_admin, user=org.users.cadre1)
    client.force_login(org.users.admin)
    assert "unlock_logins" in client.get(reverse("admin:accounts_user_changelist")).content.decode()


# --- password rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "new_password, message",
    [
        ("Sh0rt-pass", None),  # accepted: 10 characters of four kinds
        ("Short1-a", "至少需要 10 个字符"),
        ("lowercase-and-dashes", "中的 3 种"),
        ("cadre1-Spring-2026", "不得包含用户名"),
        ("Password123", "太常见"),
    ],
)
def test_every_new_password_follows_the_rules_with_a_chinese_message(org, new_password, message):
    cadre = org.users.cadre1
    with translation.override("zh-hans"):
        if message is None:
            user_set_password(actor=cadre, user=cadre, password=new_password)
            return
        with pytest.raises(ZhubaoError) as refused:
            user_set_password(actor=cadre, user=cadre, password=new_password)
    assert any(message in text for text in refused.value.fields["password"]), refused.value.fields
    cadre.refresh_from_db()
    assert not cadre.check_password(new_password)


def test_a_password_like_the_username_is_refused(org):
    person = User.objects.create(username="zhangwei2026")
    with translation.override("zh-hans"), pytest.raises(ZhubaoError) as refused:
        user_set_password(actor=None, user=person, password="Zhangwei-2026")
    assert any("太相似" in text or "不得包含用户名" in text for text in refused.value.fields["password"])


def test_the_password_page_refuses_a_weak_new_password_on_its_field(org, login, password):
    client = login(org.users.cadre1)
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": password, "new_password1": "weakpass", "new_password2": "weakpass"},
    )
    assert response.status_code == 200
    assert "至少需要 10 个字符" in response.content.decode()
    org.users.cadre1.refresh_from_db()
    assert org.users.cadre1.check_password(password)


# --- a password set by someone else is changed at first login ---------------------------------------


def test_a_person_an_admin_created_must_choose_their_own_password_at_first_login(org, client):
    person = user_create(actor=org.users.admin, username="newcadre", password=GOOD_PASSWORD)
    assert person.must_change_password
    grant(person, "cadre", node=org.building1)

    response = log_in(client, "newcadre", GOOD_PASSWORD)
    assert response.status_code == 302
    assert client.get("/").url == reverse("accounts:password-change")
    assert client.get(reverse("accounts:people")).url == reverse("accounts:password-change")
    page = client.get(reverse("accounts:password-change"))
    assert page.status_code == 200
    assert "您的密码由他人设置" in page.content.decode()

    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": GOOD_PASSWORD, "new_password1": "Mine-2026-chosen", "new_password2": "Mine-2026-chosen"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.must_change_password
    assert person.check_password("Mine-2026-chosen")
    assert client.get("/").status_code == 200  # still logged in, and let through
    event = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_CHANGED, object_id=str(person.pk))
    assert event.detail["by"] == "self"


def test_someone_who_must_change_their_password_may_still_log_out_and_switch_language(org, client):
    user_create(actor=org.users.admin, username="newcadre", password=GOOD_PASSWORD)
    log_in(client, "newcadre", GOOD_PASSWORD)
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert not logged_in_as(client)


def test_the_system_and_the_person_themself_set_passwords_that_need_no_change(org):
    by_system = user_create(actor=None, username="seeded", password=GOOD_PASSWORD)
    assert not by_system.must_change_password
    cadre = org.users.cadre1
    user_set_password(actor=org.users.admin, user=cadre, password=GOOD_PASSWORD)
    assert cadre.must_change_password
    user_set_password(actor=cadre, user=cadre, password="Mine-2026-chosen")
    assert not cadre.must_change_password


def test_the_admins_change_password_page_goes_through_the_service(org, login):
    cadre = org.users.cadre1
    token = Token.objects.create(user=cadre)
    client = login(org.users.admin)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[cadre.pk]),
        {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    cadre.refresh_from_db()
    assert cadre.check_password(GOOD_PASSWORD)
    assert cadre.must_change_password
    assert not Token.objects.filter(pk=token.pk).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_CHANGED, object_id=str(cadre.pk))
    assert (event.user, event.detail["by"]) == (org.users.admin, "other")


def test_the_admins_change_password_page_refuses_a_weak_password(org, login):
    client = login(org.users.admin)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[org.users.cadre1.pk]),
        {"password1": "weakpass", "password2": "weakpass", "usable_password": "true"},
    )
    assert response.status_code == 200
    org.users.cadre1.refresh_from_db()
    assert not org.users.cadre1.must_change_password


def test_a_person_added_in_the_admin_with_a_password_changes_it_at_first_login(org, login):
    client = login(org.users.admin)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "addedcadre", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="addedcadre").must_change_password


def test_deactivating_someone_in_the_admin_ends_their_api_token(org, login):
    cadre = org.users.cadre1
    token = Token.objects.create(user=cadre)
    grants = list(RoleGrant.objects.active().filter(user=cadre))
    data = {
        "username": cadre.username,
        "full_name": cadre.full_name,
        "phone": "",
        "email": "",
        # is_active left out: unticked
        "grants-TOTAL_FORMS": len(grants),
        "grants-INITIAL_FORMS": len(grants),
        "grants-MIN_NUM_FORMS": 0,
        "grants-MAX_NUM_FORMS": 0,
        "grants-2-TOTAL_FORMS": 0,
        "grants-2-INITIAL_FORMS": 0,
        "grants-2-MIN_NUM_FORMS": 0,
        "grants-2-MAX_NUM_FORMS": 1000,
    }
    for index, existing in enumerate(grants):
        data[f"grants-{index}-id"] = existing.pk
        data[f"grants-{index}-user"] = cadre.pk
    response = login(org.users.admin).post(reverse("admin:accounts_user_change", args=[cadre.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    cadre.refresh_from_db()
    assert not cadre.is_active
    assert not Token.objects.filter(pk=token.pk).exists()


def test_the_demo_logins_keep_the_demo_password_and_need_no_change(db, client):
    call_command("seed_demo", password="zhubao-demo", households=0, stdout=None)
    staff = User.objects.get(username="staff")
    assert not staff.must_change_password
    assert log_in(client, "staff", "zhubao-demo").status_code == 302
    assert client.get("/").status_code == 200


# --- sessions ----------------------------------------------------------------------------------------


def _last_activity(client, seconds_ago: int) -> None:
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - seconds_ago
    session.save()


def test_a_session_idle_for_thirty_minutes_is_logged_out_with_a_chinese_message(org, client, password):
    log_in(client, "cadre1", password)
    _last_activity(client, 31 * 60)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "您已超过 30 分钟未操作" in response.content.decode()
    assert not logged_in_as(client)
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT, user=org.users.cadre1)
    assert event.detail["reason"] == "idle_timeout"


def test_a_session_used_within_the_idle_time_stays(org, client, password):
    log_in(client, "cadre1", password)
    _last_activity(client, 29 * 60)
    assert client.get("/").status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY] < 5  # the activity was recorded


@override_settings(ZHUBAO_SESSION_IDLE_MINUTES=5)
def test_the_idle_time_is_a_setting(org, client, password):
    log_in(client, "cadre1", password)
    _last_activity(client, 6 * 60)
    assert client.get("/").status_code == 302
    assert not logged_in_as(client)


def test_logout_is_a_post_that_ends_the_session(org, client, password):
    log_in(client, "cadre1", password)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert logged_in_as(client)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert not logged_in_as(client)
    assert client.get("/").status_code == 302


def test_the_pages_logout_button_posts_to_the_logout_url(org, login):
    content = login(org.users.cadre1).get("/").content.decode()
    assert re.search(r'<form action="/accounts/logout/" method="post">', content)


# --- the audit log ----------------------------------------------------------------------------------------


def test_logins_failed_logins_lockouts_and_logouts_are_audited(org, client, password):
    log_in(client, "cadre1", password)
    client.post(reverse("accounts:logout"))
    fail(client, "cadre2", times=5)
    log_in(client, "cadre2", password)  # refused during the lock
    events = AuditEvent.objects.exclude(action__in=["tree_changed", "grant_changed"]).order_by("pk")
    actions = [(event.action, event.detail.get("username", "")) for event in events]
    assert actions == [
        (AuditEvent.Action.LOGIN_SUCCEEDED, ""),
        (AuditEvent.Action.LOGOUT, ""),
        *[(AuditEvent.Action.LOGIN_FAILED, "cadre2")] * 4,
        (AuditEvent.Action.LOCKED_OUT, "cadre2"),
        (AuditEvent.Action.LOGIN_FAILED, "cadre2"),
        (AuditEvent.Action.LOGIN_FAILED, "cadre2"),
    ]
    succeeded = events.get(action=AuditEvent.Action.LOGIN_SUCCEEDED)
    assert (succeeded.user, succeeded.ip_address) == (org.users.cadre1, "127.0.0.1")
    failed = events.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert set(failed.values_list("object_id", flat=True)) == {str(org.users.cadre2.pk)}
    assert failed.last().detail["locked_out"] is True
    assert failed.first().user is None


# --- the login page ------------------------------------------------------------------------------------


def test_the_login_page_has_a_language_switch_and_a_username_field_phones_leave_alone(db, client):
    content = client.get(LOGIN).content.decode()
    assert f'action="{reverse("set_language")}"' in content
    assert 'name="language" value="en"' in content and ">English<" in content
    assert 'name="language" value="zh-hans"' in content and ">简体中文<" in content
    username = re.search(r"<input[^>]*name=\"username\"[^>]*>", content).group(0)
    for attribute in ('autocapitalize="none"', 'autocorrect="off"', 'spellcheck="false"'):
        assert attribute in username


def test_the_login_page_switches_to_english_and_back(db, client):
    client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    assert "Log in to Zhubao" in client.get(LOGIN).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": LOGIN})
    assert "Log in to Zhubao" not in client.get(LOGIN).content.decode()


@pytest.mark.parametrize("url", [LOGIN, "/accounts/password/"])
def test_the_identity_pages_have_no_inline_script(org, login, url):
    content = login(org.users.cadre1).get(url).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)
    assert not re.search(r"\son[a-z]+=", content)
