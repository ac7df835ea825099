"""Every main page fits a 390px phone without sideways scrolling, and looks right on a desktop.

Screenshots land in ./screenshots/ (gitignored) for a person to look at.
"""

from pathlib import Path

import pytest
from django.conf import settings

from grid.services import grid_post_create, grid_set_colour, household_update
from tests.factories import HouseholdFactory

from .conftest import DESKTOP, PHONE, log_in, no_sideways_scroll

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"


@pytest.fixture
def lived_in(org):
    """The standard world with enough households, colours and posts to fill the pages."""
    from grid.models import Tag

    # Reference data from a migration; a transactional test before this one may have flushed it.
    names = [
        ("elderly-alone", "独居老人"),
        ("empty-nest", "空巢老人"),
        ("disabled", "残疾人"),
        ("low-income", "低保户"),
    ]
    tags = [Tag.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in names]
    for number in range(28):
        building = org.building1 if number % 2 else org.building2
        household = HouseholdFactory(
            building=building, unit=str(number % 3 + 1), room=f"{number // 3 + 1}0{number % 4 + 1}"
        )
        if number % 5 == 0:
            household_update(actor=None, household=household, is_care=True, care_reason="独居老人", tags=tags[:2])
        elif tags and number % 3 == 0:
            household_update(actor=None, household=household, tags=[tags[number % len(tags)]])
    grid_set_colour(actor=None, grid=org.grid2, colour="red", reason="老旧小区，独居老人多")
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    grid_post_create(actor=None, grid=org.grid2, post_type="A", title="专职网格员")
    return org


def pages(org):
    return [
        ("home", "/"),
        ("tree", "/tree/"),
        ("households", "/households/"),
        ("household", f"/households/{org.household1.pk}/"),
        ("grids", "/grids/"),
        ("grid", f"/grids/{org.grid1.pk}/"),
        ("node", f"/tree/{org.compound1.pk}/"),
        ("people", "/accounts/people/"),
        ("household-edit", f"/households/{org.household1.pk}/edit/"),
        ("grid-colour", f"/grids/{org.grid2.pk}/colour/"),
    ]


@pytest.mark.parametrize("size_name, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_main_pages_fit_the_screen(lived_in, live_server, browser, password, size_name, viewport):
    org = lived_in
    SCREENSHOTS.mkdir(exist_ok=True)
    is_phone = size_name == "phone"
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=is_phone, has_touch=is_phone)
    page = context.new_page()
    try:
        log_in(page, live_server, org.users.staff.username, password)
        for name, path in pages(org):
            page.goto(f"{live_server.url}{path}")
            if name == "tree":
                page.locator(f"li[data-node='{org.community.pk}'] summary .zb-tree-toggle").first.click()
                page.locator(f"li[data-node='{org.compound1.pk}'] summary .zb-tree-toggle").first.click()
                page.locator(f"li[data-node='{org.building1.pk}']").wait_for()
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}.png"), full_page=True)
            assert no_sideways_scroll(page), f"{path} scrolls sideways at {viewport['width']}px"
    finally:
        context.close()
