"""An admin adds a person in the portal (not in /admin/) and gives them a second role, finding the place
by a search (htmx) because the city's picker is longer than it lists; no Content-Security-Policy error."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts import selectors
from accounts.models import Role, User

from .conftest import DESKTOP, log_in

pytestmark = pytest.mark.browser

FIRST_PASSWORD = "Bao-Lian-2026x"


def screenshot(page, name):
    folder = os.environ.get("ZHUBAO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_an_admin_creates_a_person_and_gives_a_role_found_by_search(org, live_server, page, password, monkeypatch):
    # A picker longer than this lists communities and compounds only, and finds buildings by search.
    monkeypatch.setattr(selectors, "PLACE_OPTIONS_LIMIT", 4)
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, org.users.admin.username, password)

    page.goto(f"{live_server.url}/accounts/people/")
    page.click("a[href='/accounts/people/new/']")
    page.wait_for_url("**/accounts/people/new/")
    expect(page.locator("#id_role")).not_to_contain_text("包联干部")  # pairing gives cadres their places
    expect(page.locator("main")).to_contain_text("包联干部的楼栋和居民户在包联页面分配")
    page.fill("#id_username", "wangxin")
    page.fill("#id_full_name", "王新")
    page.fill("#id_phone", "13800001111")
    page.fill("#id_password", FIRST_PASSWORD)
    page.fill("#id_password_again", FIRST_PASSWORD)
    page.select_option("#id_role", Role.COMMUNITY_STAFF)
    page.select_option("#id_org_node", str(org.compound1.pk))
    screenshot(page, "people-create.png")
    page.click("#person-create-form button[type=submit]")

    person = User.objects.get(username="wangxin")
    page.wait_for_url(f"**/accounts/people/{person.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("已添加王新")
    expect(page.locator("main")).to_contain_text(org.compound1.name)
    assert person.must_change_password

    page.click(f"a[href='/accounts/people/{person.pk}/grants/new/']")
    page.select_option("#id_role", Role.BUREAU_LEADER)
    assert str(org.building2.pk) not in page.locator("#id_org_node").inner_html()  # not listed until searched
    page.fill("input[name=org_node_search]", "2号楼")
    expect(page.locator(f"#id_org_node option[value='{org.building2.pk}']")).to_have_count(1)
    expect(page.locator("#id_org_node")).to_have_value(str(org.building2.pk))  # the first match is chosen
    screenshot(page, "people-grant-search.png")
    page.click("#grant-add-form button[type=submit]")
    page.wait_for_url(f"**/accounts/people/{person.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("局领导")
    assert person.grants.active().filter(role=Role.BUREAU_LEADER, org_node=org.building2).exists()
    screenshot(page, "people-detail.png")
    assert not problems, problems
