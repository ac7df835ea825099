"""Writes to households and their tags."""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise

from ..models import (
    Household,
    OrgNode,
    OrgNodeKind,
    Tag,
)
from .tree import org_tree_lock


@transaction.atomic
def tag_ensure_defaults() -> int:
    """Make sure the default household tags exist (after a flush, or on a fresh database).

    Returns how many were added.
    """
    from .default_tags import DEFAULT_TAGS

    added = 0
    for order, (code, name) in enumerate(DEFAULT_TAGS):
        _, created = Tag.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
        added += created
    return added


# --- Households -----------------------------------------------------------------------------

HOUSEHOLD_FIELDS = (
    "building",
    "hub",
    "unit",
    "room",
    "head_name",
    "phone",
    "id_number",
    "resident_count",
    "is_care",
    "care_reason",
)


def _stamp_household(household: Household) -> None:
    """Set the denormalised compound and community ids from the building, read fresh under the tree lock.

    The building object a form or serializer hands in was loaded before this transaction; a
    concurrent move or deactivation would otherwise stamp stale ids. A household that is no
    longer a care household keeps no care reason (data minimisation).
    """
    if not household.is_care:
        household.care_reason = ""
    org_tree_lock(tree_id=household.building.tree_id)
    household.building = building = OrgNode.objects.select_related("parent").get(pk=household.building_id)
    if building.kind != OrgNodeKind.BUILDING:
        raise ZhubaoError(
            ErrorCode.INVALID, _("Choose a building group."), {"building": [_("Choose a building group.")]}
        )
    if not building.is_active:
        raise ZhubaoError(
            ErrorCode.NODE_INACTIVE,
            _("This building is deactivated."),
            {"building": [_("This building is deactivated.")]},
        )
    household.compound_id = building.parent_id
    household.community_id = building.parent.parent_id


def _check_duplicate_address(household: Household) -> None:
    duplicate = (
        Household.objects.active()
        .filter(building_id=household.building_id, unit=household.unit, room=household.room)
        .exclude(pk=household.pk)
        .exists()
    )
    if duplicate:
        raise ZhubaoError(
            ErrorCode.DUPLICATE,
            _("An active household already lives at this address."),
            {"room": [_("An active household already lives at this address.")]},
        )


@transaction.atomic
def household_create(*, actor, building: OrgNode, room: str, head_name: str, tags: Iterable[Tag] = (), **data):
    household = Household(building=building, room=room.strip(), head_name=head_name.strip())
    for name, value in data.items():
        if name not in HOUSEHOLD_FIELDS:
            raise TypeError(f"household_create() got an unexpected field {name!r}")
        setattr(household, name, value.strip() if isinstance(value, str) else value)
    _stamp_household(household)
    _check_duplicate_address(household)
    full_clean_or_raise(household)
    household.save()
    household.tags.set(tags)
    return household


@transaction.atomic
def household_update(*, actor, household: Household, tags: Iterable[Tag] | None = None, **data) -> Household:
    for name, value in data.items():
        if name not in HOUSEHOLD_FIELDS:
            raise TypeError(f"household_update() got an unexpected field {name!r}")
        setattr(household, name, value.strip() if isinstance(value, str) else value)
    _stamp_household(household)
    _check_duplicate_address(household)
    full_clean_or_raise(household)
    household.save()
    if tags is not None:
        household.tags.set(tags)
    return household


@transaction.atomic
def household_deactivate(*, actor, household: Household) -> Household:
    """Record that a household moved out; the row stays for the facts that point at it."""
    household.is_active = False
    household.save(update_fields=["is_active", "updated_at"])
    return household
