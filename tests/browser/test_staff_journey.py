"""Journeys through the portal on a phone: community staff and a liaison cadre."""

import pytest
from playwright.sync_api import expect

from core.models import AuditEvent

from .conftest import MASKED_PHONE, log_in, no_sideways_scroll, open_menu_item

pytestmark = pytest.mark.browser


def test_staff_opens_the_tree_then_a_household_whose_phone_stays_masked(org, live_server, page, password):
    log_in(page, live_server, org.users.staff.username, password)
    assert no_sideways_scroll(page)

    open_menu_item(page, "/tree/")
    community = page.locator(f"#org-tree li[data-node='{org.community.pk}']")
    expect(community).to_contain_text(org.community.name)
    community.locator("summary .zb-tree-toggle").first.click()
    compound = community.locator(f"li[data-node='{org.compound1.pk}']")
    expect(compound).to_contain_text(org.compound1.name)  # loaded by htmx on first opening
    compound.locator("summary .zb-tree-toggle").first.click()
    expect(compound.locator(f"li[data-node='{org.building1.pk}']")).to_be_visible()
    assert no_sideways_scroll(page)

    open_menu_item(page, "/households/")
    cards = page.locator(".zb-cards a[href^='/households/']")
    expect(cards).to_have_count(2)
    page.locator("[data-bs-target='#household-filters']").click()
    page.fill("#household-q", org.household2.room)  # the list narrows as one types (htmx)
    expect(cards).to_have_count(1)
    page.fill("#household-q", "")
    expect(cards).to_have_count(2)
    page.locator(f".zb-cards a[href='/households/{org.household1.pk}/']").click()
    page.wait_for_url(f"**/households/{org.household1.pk}/")

    phone = page.locator("[data-field=phone]")
    expect(phone).to_have_text(MASKED_PHONE)
    assert org.household1.phone not in page.content()
    assert org.household1.id_number not in page.content()
    assert no_sideways_scroll(page)


def test_cadre_on_a_phone_finds_their_household_and_reveals_the_phone(org, live_server, page, password):
    log_in(page, live_server, org.users.cadre1.username, password)
    assert no_sideways_scroll(page)

    open_menu_item(page, "/households/")
    cards = page.locator(".zb-cards a[href^='/households/']")
    expect(cards).to_have_count(1)  # only the household of their building
    cards.first.click()
    page.wait_for_url(f"**/households/{org.household1.pk}/")
    expect(page.locator("[data-field=phone]")).to_have_text(MASKED_PHONE)

    reveal = page.get_by_test_id("reveal")
    box = reveal.bounding_box()
    assert box["height"] >= 44, "tap targets are at least 44px high"
    reveal.click()
    expect(page.locator("[data-field=phone]")).to_have_text(org.household1.phone)
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.PERSONAL_DATA_VIEWED, user=org.users.cadre1, object_id=str(org.household1.pk)
        ).count()
        == 1
    )

    open_menu_item(page, "/tree/")
    expect(page.locator("#org-tree > li")).to_have_count(1)
    expect(page.locator("#org-tree")).not_to_contain_text(org.community.name)
    assert no_sideways_scroll(page)
