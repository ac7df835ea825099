"""Pages work under the Content-Security-Policy: no console error about a refused script, style or
frame on any page a persona opens, including htmx swaps, the Django admin and the API docs.

Screenshots of the pages issue 5 changed (home per role, the grid page) land in ./screenshots/.
"""

from pathlib import Path

import pytest
from django.conf import settings

from grid.services import grid_post_create
from tests.factories import UserFactory

from .conftest import DESKTOP, PHONE, log_in, no_sideways_scroll

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"
NARROW_PHONE = {"width": 360, "height": 780}


@pytest.fixture
def grid_with_worker(org):
    holder = UserFactory(username="holder", full_name="甄网格员", phone="13812345678")
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=holder)
    grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长")
    return org


class Console:
    """Collects what the browser refused or failed on, per page."""

    def __init__(self, page):
        self.problems: list[str] = []
        self.watch(page)

    def watch(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: page error {error}"))
        self.page = page

    def _console(self, message):
        text = message.text
        if "/no-such-page/" in self.page.url and "status of 404" in text:
            return  # the 404 page itself, asked for on purpose
        if message.type == "error" or "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"{self.page.url}: {message.type}: {text}")


def open_context(browser, viewport):
    is_phone = viewport["width"] < 600
    return browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=is_phone, has_touch=is_phone)


@pytest.mark.parametrize("size_name, viewport", [("360", NARROW_PHONE), ("desktop", DESKTOP)])
def test_a_cadre_finds_the_grid_worker_and_reveals_the_phone_without_a_policy_violation(
    grid_with_worker, live_server, browser, password, size_name, viewport
):
    org = grid_with_worker
    SCREENSHOTS.mkdir(exist_ok=True)
    context = open_context(browser, viewport)
    page = context.new_page()
    console = Console(page)
    try:
        log_in(page, live_server, org.users.cadre1.username, password)
        page.screenshot(path=str(SCREENSHOTS / f"home-cadre-{size_name}.png"), full_page=True)
        assert page.locator("[data-role='cadre']").is_visible()
        page.goto(f"{live_server.url}/grids/{org.grid1.pk}/")
        holder = page.locator(".zb-post-holder").first
        assert "甄网格员" in holder.inner_text() and "138****5678" in holder.inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"grid-cadre-{size_name}.png"), full_page=True)
        holder.locator("[data-testid=reveal-phone]").click()
        page.locator(".zb-post-holder a[href='tel:13812345678']").wait_for()
        page.screenshot(path=str(SCREENSHOTS / f"grid-cadre-revealed-{size_name}.png"), full_page=True)
        assert no_sideways_scroll(page)
        # htmx-driven tree and the household page's reveal
        page.goto(f"{live_server.url}/tree/")
        page.locator(f"li[data-node='{org.building1.pk}'] summary .zb-tree-toggle").first.click()
        page.locator(f"li[data-node='{org.hub1.pk}']").wait_for()  # swapped in by htmx
        page.goto(f"{live_server.url}/households/{org.household1.pk}/")
        page.locator("[data-testid=reveal]").click()
        page.locator("#personal-data.border-warning").wait_for()
    finally:
        context.close()
    assert not console.problems, "\n".join(console.problems)


@pytest.mark.parametrize("size_name, viewport", [("360", NARROW_PHONE), ("desktop", DESKTOP)])
def test_a_department_handler_home_names_the_department_without_a_policy_violation(
    org, live_server, browser, password, size_name, viewport
):
    SCREENSHOTS.mkdir(exist_ok=True)
    context = open_context(browser, viewport)
    page = context.new_page()
    console = Console(page)
    try:
        log_in(page, live_server, org.users.dept.username, password)
        role = page.locator("[data-role='department_handler']")
        assert "城管局" in role.inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"home-department-{size_name}.png"), full_page=True)
        assert no_sideways_scroll(page)
    finally:
        context.close()
    assert not console.problems, "\n".join(console.problems)


def test_staff_and_admin_pages_run_under_the_policy(grid_with_worker, live_server, browser, password):
    org = grid_with_worker
    context = open_context(browser, DESKTOP)
    page = context.new_page()
    console = Console(page)
    try:
        log_in(page, live_server, org.users.staff.username, password)
        for path in [
            "/households/",
            f"/households/{org.household1.pk}/edit/",
            f"/grids/{org.grid1.pk}/buildings/",
            f"/grids/{org.grid1.pk}/posts/new/",
            f"/grids/{org.grid1.pk}/colour/",
            "/accounts/people/",
            "/imports/",
            "/no-such-page/",
        ]:
            page.goto(f"{live_server.url}{path}")
        # The language menu submits itself on change (static/js/zhubao.js, no inline handler).
        page.goto(f"{live_server.url}/")
        page.locator(".navbar .dropdown-toggle").click()
        with page.expect_navigation():
            page.select_option("#language-select", "en")
        assert page.locator("html").get_attribute("lang") == "en"
        page.screenshot(path=str(SCREENSHOTS / "home-staff-english-desktop.png"), full_page=True)
        context.close()

        context = open_context(browser, DESKTOP)
        page = context.new_page()
        console.watch(page)
        log_in(page, live_server, org.users.admin.username, password)
        for path in [
            f"/tree/{org.building1.pk}/move/",
            "/admin/",
            "/admin/grid/orgnode/",
            f"/admin/grid/household/{org.household1.pk}/change/",
            "/admin/accounts/user/",
        ]:
            page.goto(f"{live_server.url}{path}")
        page.goto(f"{live_server.url}/api/docs/")
        page.locator(".swagger-ui .info").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "api-docs-desktop.png"))
    finally:
        context.close()
    assert not console.problems, "\n".join(console.problems)


def test_the_phone_home_of_staff_still_fits(org, live_server, browser, password):
    context = open_context(browser, PHONE)
    page = context.new_page()
    try:
        log_in(page, live_server, org.users.staff.username, password)
        assert no_sideways_scroll(page)
    finally:
        context.close()
