"""A cadre finds their grid worker (issue 5, defect 7): the grid page names each post's holder with
a masked phone; those who may reveal personal data on the grid tap to see it in full, audited."""

import pytest
from django.urls import reverse

from core.errors import ZhubaoError
from core.models import AuditEvent
from grid.services import grid_post_create, grid_post_holder_phone_reveal
from tests.factories import UserFactory

PHONE = "13812345678"
MASKED = "138****5678"


@pytest.fixture
def post(org):
    holder = UserFactory(username="holder", full_name="甄网格员", phone=PHONE)
    return grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=holder)


def grid_page(client, user, grid):
    client.force_login(user)
    return client.get(reverse("grid:grid-detail", kwargs={"pk": grid.pk})).content.decode()


def reveal_url(post):
    return reverse("grid:grid-post-holder-phone", kwargs={"pk": post.pk})


def test_a_cadre_sees_the_grid_worker_by_name_with_a_masked_phone_and_a_show_full_button(org, client, post):
    page = grid_page(client, org.users.cadre1, org.grid1)
    assert "甄网格员" in page and MASKED in page and PHONE not in page
    assert reveal_url(post) in page


def test_a_bureau_leader_sees_name_and_masked_phone_but_cannot_reveal_it(org, client, post):
    page = grid_page(client, org.users.leader, org.grid1)
    assert "甄网格员" in page and MASKED in page
    assert reveal_url(post) not in page
    assert client.post(reveal_url(post)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


def test_revealing_the_phone_answers_the_full_number_with_no_store_and_records_who_saw_it(org, client, post):
    client.force_login(org.users.cadre1)
    response = client.post(reveal_url(post), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert f'href="tel:{PHONE}"' in fragment and "<html" not in fragment and "本次查看已记录" in fragment
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERSONAL_DATA_VIEWED)
    assert (event.user, event.object_type, event.object_id) == (org.users.cadre1, "accounts.user", str(post.holder_id))
    assert event.detail["fields"] == ["phone"] and event.detail["grid_post"] == post.pk


def test_without_javascript_the_reveal_shows_the_grid_page_with_that_number(org, client, post):
    client.force_login(org.users.cadre1)
    response = client.post(reveal_url(post))
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert f'href="tel:{PHONE}"' in response.content.decode() and "no-store" in response["Cache-Control"]


def test_a_cadre_of_another_compound_gets_404_and_nothing_is_recorded(org, client, post):
    client.force_login(org.users.cadre2)
    assert client.post(reveal_url(post)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


def test_a_get_does_not_reveal(org, client, post):
    client.force_login(org.users.cadre1)
    assert client.get(reveal_url(post)).status_code == 405
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


def test_the_service_refuses_a_user_without_the_right_on_the_grid(org, post):
    with pytest.raises(ZhubaoError) as refused:
        grid_post_holder_phone_reveal(actor=org.users.leader, post=post)
    assert refused.value.status_code == 404
    with pytest.raises(ZhubaoError):
        grid_post_holder_phone_reveal(actor=None, post=post)
    assert grid_post_holder_phone_reveal(actor=org.users.staff, post=post) == PHONE


def test_a_vacant_post_reveals_nothing_and_records_nothing(org):
    vacant = grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长")
    assert grid_post_holder_phone_reveal(actor=org.users.staff, post=vacant) == ""
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()
