"""The grid list at city scale (issue 7): counts as SQL subqueries for users who see grids whole and
through the scope for the others, one rendering of the rows, paging capped city-wide, flat queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import paging
from grid import selectors
from grid.services import grid_post_create, grid_set_buildings, grid_update, household_deactivate
from tests.factories import BuildingFactory, HouseholdFactory, UserFactory, make_grid

# session, user, grants (role grants, pairings), count, page (the counts and the community's name are subqueries of the page)
GRID_LIST_QUERIES = 6


@pytest.fixture
def grid_across_compounds(org):
    """grid1 with building1 (compound1, cadre1's) and building2 (compound2, cadre2's), one filled post."""
    grid_set_buildings(actor=None, grid=org.grid1, buildings=[org.building1, org.building2])
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=UserFactory())
    grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长")
    return org.grid1


@pytest.mark.parametrize(
    "username, whole",
    [("admin", True), ("staff", True), ("leader", True), ("cadre1", False), ("gridworker", False)],
)
def test_only_global_and_community_grants_see_their_grids_whole(org, username, whole):
    assert selectors.sees_grids_whole(getattr(org.users, username)) is whole


@pytest.mark.parametrize(
    "username, counts",
    [
        # building_count, household_count, post_count, vacant_post_count
        ("admin", (2, 2, 2, 1)),
        ("staff", (2, 2, 2, 1)),
        ("cadre1", (1, 1, 2, 1)),
        ("cadre2", (1, 1, 2, 1)),
    ],
)
def test_the_list_counts_what_each_user_sees_of_a_grid_across_compounds(org, grid_across_compounds, username, counts):
    household_deactivate(actor=None, household=HouseholdFactory(building=org.building1, room="909"))  # not counted
    user = getattr(org.users, username)
    grids = {grid.pk: grid for grid in selectors.grid_list(user=user, filters=selectors.GridFilters())}
    grid = grids[grid_across_compounds.pk]
    assert (grid.building_count, grid.household_count, grid.post_count, grid.vacant_post_count) == counts
    assert grid.community_name == org.community.name
    # The whole-grid SQL and the scoped expressions agree where both apply.
    detail = selectors.grid_detail(user=user, pk=grid.pk)
    assert (detail.building_count, detail.household_count) == counts[:2]


def test_the_list_is_in_community_then_code_order(org):
    make_grid(community=org.community, code="00")
    codes = [grid.code for grid in selectors.grid_list(user=org.users.admin, filters=selectors.GridFilters())]
    communities = [
        grid.community_id for grid in selectors.grid_list(user=org.users.admin, filters=selectors.GridFilters())
    ]
    assert communities == sorted(communities)
    ours = [code for code, community in zip(codes, communities, strict=True) if community == org.community.pk]
    assert ours == sorted(ours) and ours[0] == "00"


def test_each_grid_is_rendered_once_with_its_link_counts_and_colour(org, login, grid_across_compounds):
    response = login(org.users.staff).get(reverse("grid:grid-list"))
    content = response.content.decode()
    link = f'href="/grids/{org.grid1.pk}/"'
    # One rendering for the table and the phone cards: one link per grid, no second list.
    assert content.count(link) == 1
    assert 'class="list-group d-md-none' not in content
    assert "zb-cards-table" in content
    assert org.community.name in content
    # Counts of grid1: 2 buildings, 2 households, 2 posts, 1 vacant.
    row = content[content.index(link) : content.index("</tr>", content.index(link))]
    assert row.count("> 2</td>") == 3 and '<span class="badge text-bg-warning">1</span>' in row


def test_an_inactive_grid_is_marked(org, login):
    grid_update(actor=None, grid=org.grid2, is_active=False)
    content = login(org.users.staff).get(reverse("grid:grid-list")).content.decode()
    link = f'href="/grids/{org.grid2.pk}/"'
    row = content[content.index(link) : content.index("</tr>", content.index(link))]
    assert "badge text-bg-secondary" in row


def test_a_city_wide_list_counts_up_to_the_cap_and_pages_on(org, login, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    for n in range(25):
        make_grid(community=org.other_community, code=f"9{n:02d}")
    client = login(org.users.admin)
    page = client.get(reverse("grid:grid-list")).context["page"]
    assert page.paginator.capped and page.paginator.count == 2 and page.has_next()
    assert "2个以上网格" in client.get(reverse("grid:grid-list")).content.decode()
    assert len(client.get(reverse("grid:grid-list"), {"page": 2}).context["grids"]) == 3
    # Community staff: an exact count, whatever the cap.
    staff_page = login(org.users.staff).get(reverse("grid:grid-list")).context["page"]
    assert not staff_page.paginator.capped and staff_page.paginator.count == 2


@pytest.mark.parametrize("username", ["staff", "admin", "cadre1"])
def test_the_grid_list_runs_a_constant_number_of_queries(org, login, django_assert_max_num_queries, username):
    client = login(getattr(org.users, username))
    with django_assert_max_num_queries(GRID_LIST_QUERIES):
        assert client.get(reverse("grid:grid-list")).status_code == 200
    for n in range(30):
        building = BuildingFactory(parent=org.compound1)
        HouseholdFactory(building=building)
        grid = make_grid(community=org.community, code=f"5{n:02d}", buildings=[building])
        grid_post_create(actor=None, grid=grid, post_type="A", title="网格员")
    with django_assert_max_num_queries(GRID_LIST_QUERIES):
        response = client.get(reverse("grid:grid-list"))
    assert response.status_code == 200
    if username != "cadre1":
        assert len(response.context["grids"]) == 25  # a page, the rest behind "next"


def test_a_first_page_that_holds_every_grid_is_its_own_count(org, login):
    client = login(org.users.staff)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("grid:grid-list")).context["page"]
    assert page.paginator.count == 2 and not page.has_next()
    assert not any("COUNT(*)" in query["sql"] for query in captured.captured_queries)


def test_a_long_list_is_counted_and_paged(org, login):
    for n in range(30):
        make_grid(community=org.community, code=f"6{n:02d}")
    client = login(org.users.staff)
    first = client.get(reverse("grid:grid-list")).context["page"]
    assert first.has_next() and first.paginator.count == 32 and len(first.object_list) == 25
    second = client.get(reverse("grid:grid-list"), {"page": 2}).context["page"]
    assert not second.has_next() and len(second.object_list) == 7
    shown = {grid.pk for grid in first.object_list} | {grid.pk for grid in second.object_list}
    assert len(shown) == 32
