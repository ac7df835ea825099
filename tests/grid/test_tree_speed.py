"""The tree's pages stay small as the city grows: roots and long levels are paged, counts stay right."""

import pytest
from django.urls import reverse

from grid.models import OrgNode
from grid.services import org_node_create
from grid.views import TREE_LEVEL_PER_PAGE, TREE_ROOTS_PER_PAGE

pytestmark = pytest.mark.django_db

TREE_QUERIES = 5
CHILDREN_QUERIES = 6


def _buildings(compound, n):
    return [
        org_node_create(actor=None, parent=compound, name=f"{i + 10}号楼党小组", place_name="", code="")
        for i in range(n)
    ]


def _children(response) -> list[int]:
    return [node.pk for node in response.context["nodes"]]


def test_a_long_level_is_read_a_page_at_a_time_in_tree_order(org, login, django_assert_max_num_queries):
    _buildings(org.compound1, TREE_LEVEL_PER_PAGE + 5)
    expected = list(OrgNode.objects.filter(parent=org.compound1).order_by("lft").values_list("pk", flat=True))
    client = login(org.users.staff)
    url = reverse("grid:tree-children", kwargs={"pk": org.compound1.pk})
    with django_assert_max_num_queries(CHILDREN_QUERIES):
        first = client.get(url)
    assert _children(first) == expected[:TREE_LEVEL_PER_PAGE]
    after = first.context["more_after"]
    assert f"?after={after}" in first.content.decode()
    with django_assert_max_num_queries(CHILDREN_QUERIES):
        rest = client.get(url, {"after": after})
    assert _children(rest) == expected[TREE_LEVEL_PER_PAGE:]
    assert rest.context["more_after"] is None
    assert "No nodes under this one." not in rest.content.decode()


def test_the_counts_of_a_paged_level_are_each_nodes_own(org, login):
    response = login(org.users.staff).get(reverse("grid:tree-children", kwargs={"pk": org.community.pk}))
    counts = {node.pk: (node.household_count, node.grid_count) for node in response.context["nodes"]}
    assert counts == {org.compound1.pk: (1, 1), org.compound2.pk: (1, 1)}


def test_the_city_wide_tree_pages_its_communities_and_finds_one_by_name(org, login, django_assert_max_num_queries):
    for i in range(TREE_ROOTS_PER_PAGE + 1):
        org_node_create(actor=None, parent=None, name=f"测试{i:03d}社区", place_name="", code="")
    client = login(org.users.admin)
    with django_assert_max_num_queries(TREE_QUERIES):
        first = client.get(reverse("grid:tree"))
    assert len(first.context["nodes"]) == TREE_ROOTS_PER_PAGE
    assert first.context["next_page"] == 2
    assert first.context["without_counts"] is True
    second = client.get(reverse("grid:tree"), {"page": 2})
    assert len(second.context["nodes"]) == OrgNode.objects.filter(parent=None).count() - TREE_ROOTS_PER_PAGE
    assert second.context["next_page"] is None
    found = client.get(reverse("grid:tree"), {"q": "南湖"})
    assert [node.pk for node in found.context["nodes"]] == [org.other_community.pk]


@pytest.mark.parametrize("typed", ["南湖\x00", "\u200b南湖\x07 ", "南湖\r\n"])
def test_the_community_search_drops_control_characters_as_every_text_does(org, login, typed):
    response = login(org.users.admin).get(reverse("grid:tree"), {"q": typed})
    assert response.status_code == 200
    assert response.context["q"] == "南湖"
    assert [node.pk for node in response.context["nodes"]] == [org.other_community.pk]


def test_community_staff_see_their_community_with_its_counts(org, login):
    response = login(org.users.staff).get(reverse("grid:tree"))
    (root,) = response.context["nodes"]
    assert (root.pk, root.household_count, root.grid_count, root.people_count) == (org.community.pk, 2, 2, 4)
    assert response.context["without_counts"] is False
    assert response.context["next_page"] is None


def test_a_cadre_cannot_page_into_a_level_outside_their_scope(org, login):
    response = login(org.users.cadre1).get(
        reverse("grid:tree-children", kwargs={"pk": org.compound2.pk}), {"after": org.compound2.lft}
    )
    assert response.status_code == 404
