"""The household list page at scale: a capped count city-wide, one rendering of the rows, cheap links."""

import pytest
from django.urls import reverse

from core import paging
from grid.models import Household
from grid.selectors import COMPOUND_CHOICES_MAX
from tests.factories import BuildingFactory, CompoundFactory, HouseholdFactory

# session, user, grants (role grants, pairings), compounds, tags, count, page, tags of the page
HOUSEHOLD_LIST_QUERIES = 9


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    return 3


def _more_households(org, number):
    building = BuildingFactory(parent=org.compound1)
    return [HouseholdFactory(building=building, room=f"{n + 1:03d}") for n in range(number)]


def test_an_admin_sees_a_capped_count_and_pages_on_past_it(org, login, small_cap, django_assert_max_num_queries):
    _more_households(org, 6)  # 3 fixture households + 6 = 9, more than the cap of 3
    client = login(org.users.admin)
    with django_assert_max_num_queries(HOUSEHOLD_LIST_QUERIES):
        response = client.get(reverse("grid:household-list"))
    page = response.context["page"]
    assert page.paginator.capped and page.paginator.count == 3
    assert "3户以上" in response.content.decode()  # "More than 3 households" (the site speaks Chinese)
    per_page = page.paginator.per_page
    total = Household.objects.filter(is_active=True).count()
    last = (total - 1) // per_page + 1
    # Past the pages the cap covers, paging still goes on by next/previous, and stops at the end.
    response = client.get(reverse("grid:household-list"), {"page": last})
    assert response.context["page"].number == last
    assert not response.context["page"].has_next()
    assert len(response.context["rows"]) == total - (last - 1) * per_page


def test_capped_paging_reads_one_row_ahead_to_know_the_next_page(org, small_cap):
    _more_households(org, 6)
    queryset = Household.objects.filter(is_active=True).order_by("pk")
    paginator = paging.CappedPaginator(queryset, 4, cap=small_cap)
    first, second, third = paginator.page(1), paginator.page(2), paginator.page(3)
    assert paginator.capped and paginator.count == 3 and paginator.num_pages == 1
    assert first.has_next() and second.has_next() and not third.has_next()
    assert [h.pk for h in list(first) + list(second) + list(third)] == list(queryset.values_list("pk", flat=True))
    assert third.start_index() == 9 and third.end_index() == len(queryset)
    assert paginator.get_page(99).number == 1  # beyond the end: the last page the cap covers
    assert paginator.get_page("x").number == 1
    assert paginator.get_page(2**62).number == 1  # an OFFSET that would overflow is never run


def test_community_staff_get_an_exact_count_above_the_cap(org, login, small_cap):
    _more_households(org, 6)
    response = login(org.users.staff).get(reverse("grid:household-list"))
    page = response.context["page"]
    assert not page.paginator.capped
    assert page.paginator.count == Household.objects.filter(community=org.community, is_active=True).count() > 3


def test_each_household_is_rendered_once_with_its_link(org, login):
    response = login(org.users.staff).get(reverse("grid:household-list"))
    html = response.content.decode()
    for household in (org.household1, org.household2):
        link = reverse("grid:household-detail", kwargs={"pk": household.pk})
        assert html.count(f'href="{link}"') == 1
        assert html.count(household.head_name) == 1
    assert 'class="table table-sm table-hover table-dense align-middle zb-table zb-cards zb-cards-table' in html


def test_a_city_wide_user_is_not_offered_thousands_of_compounds(org, login):
    for _ in range(COMPOUND_CHOICES_MAX):
        CompoundFactory(parent=org.other_community)
    client = login(org.users.admin)
    response = client.get(reverse("grid:household-list"))
    choices = response.context["choices"]
    assert choices["compounds_capped"] and choices["compounds"] == [] and choices["needs_compound"]
    response = client.get(reverse("grid:household-list"), {"compound": org.compound1.pk})
    choices = response.context["choices"]
    assert [node.pk for node in choices["compounds"]] == [org.compound1.pk]
    assert org.building1.pk in {node.pk for node in choices["buildings"]}
    assert f'name="compound" value="{org.compound1.pk}"' in response.content.decode()  # kept when filtering on
    assert {row["id"] for row in response.context["rows"]} == set(
        Household.objects.filter(compound=org.compound1, is_active=True).values_list("pk", flat=True)
    )
