"""The API's move: a dry run answers the plan the portal and the admin show; a stale token is a 409."""

from django.urls import reverse

from core.errors import ErrorCode


def test_the_api_dry_run_answers_the_plan_and_moves_nothing(hub_world, api):
    org, neighbour, other_building = hub_world
    client = api(org.users.admin)
    url = reverse("api:org-node-move", args=[org.hub1.pk])
    response = client.post(url, {"parent": other_building.pk, "dry_run": True}, format="json")
    assert response.status_code == 200, response.content
    assert set(response.json()["hub_links_dropped"]) == {org.household1.pk, neighbour.pk}
    org.hub1.refresh_from_db()
    assert org.hub1.parent_id == org.building1.pk
    stale = client.post(url, {"parent": other_building.pk, "token": "stale"}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == ErrorCode.MOVE_CHANGED
    moved = client.post(url, {"parent": other_building.pk, "token": response.json()["token"]}, format="json")
    assert moved.status_code == 200
