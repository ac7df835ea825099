"""Writes to households and their tags, and the audited reveal of a household's personal data."""

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils.translation import gettext as _

from core.access import Action, can
from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record
from core.text import refuse_unsafe_text

from .. import rules
from ..models import (
    HOUSEHOLD_FIELDS,
    Household,
    OrgNode,
    OrgNodeKind,
    Tag,
)


@transaction.atomic
def tag_ensure_defaults() -> int:
    """Make sure the default household tags exist (after a flush, or on a fresh database).

    Returns how many were added.
    """
    from ..default_tags import DEFAULT_TAGS

    added = 0
    for order, (code, name) in enumerate(DEFAULT_TAGS):
        _, created = Tag.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
        added += created
    return added


# --- Households -----------------------------------------------------------------------------

# The personal data a reveal shows in full (and the audit row names).
PERSONAL_DATA_FIELDS = ("phone", "id_number", "care_reason")


def _node_for_share(pk: int) -> OrgNode | None:
    """One org node, read with a shared row lock on PostgreSQL (SQLite serialises writers anyway)."""
    table = connection.ops.quote_name(OrgNode._meta.db_table)
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    return next(iter(OrgNode.objects.raw(f"SELECT * FROM {table} WHERE id = %s{lock}", [pk])), None)  # noqa: S608


def _stamp_household(household: Household) -> None:
    """Set the compound and community ids from the building and compound rows as they are now.

    No tree lock: a household waits neither for a tree writer holding ``org_tree_lock`` nor
    for an import, only (briefly) for a transaction that has changed the very rows it
    hangs under. The building row, then its compound's row, are read ``FOR SHARE``:

    - a move (``org_node_move``) or deactivation writes the moved node's row; that write waits
      for our shared lock, so the move's re-stamp (``UPDATE household … WHERE building = …``,
      a later statement of the move, with a fresh snapshot) sees and re-stamps this household;
    - a move that wrote the row first holds it until it commits; our ``FOR SHARE`` waits and
      then reads the committed row (READ COMMITTED re-reads a locked row), so we stamp the new
      parent and see a deactivation;
    - ``FOR KEY SHARE`` would not do: changing ``parent_id`` is not a key update, so it would
      not conflict, and a household could be stamped with the compound it just left.

    The building object a form or serializer hands in was loaded before this transaction and
    is replaced by the fresh row. A household that is no longer a care household keeps no
    care reason (data minimisation); the phone's last four digits are kept for search.
    """
    if not household.is_care:
        household.care_reason = ""
    household.phone_tail = rules.phone_tail(household.phone)
    building = _node_for_share(household.building_id)
    if building is None or building.kind != OrgNodeKind.BUILDING:
        raise ZhubaoError(
            ErrorCode.INVALID, _("Choose a building group."), {"building": [_("Choose a building group.")]}
        )
    compound = _node_for_share(building.parent_id)
    if not building.is_active or not compound.is_active:
        raise ZhubaoError(
            ErrorCode.NODE_INACTIVE,
            _("This building is deactivated."),
            {"building": [_("This building is deactivated.")]},
        )
    building.parent = compound
    household.building = building
    household.compound = compound
    household.community_id = compound.parent_id


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


def _set_fields(household: Household, data: dict, service: str) -> None:
    """Set the entered fields, each normalised by its rule (grid.rules), as every face does.

    Text holding control characters or bidi overrides is refused as handed in: normalising
    would drop them silently (core.text)."""
    for name in data:
        if name not in HOUSEHOLD_FIELDS:
            raise TypeError(f"{service}() got an unexpected field {name!r}")
    refuse_unsafe_text(**{name: value for name, value in data.items() if isinstance(value, str)})
    for name, value in data.items():
        setattr(household, name, rules.normalise_household_field(name, value))


@transaction.atomic
def household_create(*, actor, building: OrgNode, room: str, head_name: str, tags: Iterable[Tag] = (), **data):
    household = Household()
    _set_fields(household, {"building": building, "room": room, "head_name": head_name, **data}, "household_create")
    _stamp_household(household)
    _check_duplicate_address(household)
    full_clean_or_raise(household)
    household.save()
    household.tags.set(tags)
    return household


@transaction.atomic
def household_update(*, actor, household: Household, tags: Iterable[Tag] | None = None, **data) -> Household:
    _set_fields(household, data, "household_update")
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


@transaction.atomic
def household_personal_data_reveal(*, actor, household: Household, via: str, request=None) -> Household:
    """Record that ``actor`` sees the full phone, ID number and care reason of ``household``.

    The one way personal data is shown in full: the detail page's "show full" (``via="page"``),
    the edit form, which shows the values in full (``"edit_form"``), the API's
    ``personal-data/`` answer (``"api"``) and the Django admin (``"admin"``). The rule is the
    service's own: the actor must be allowed to reveal this household's personal data (out of
    scope is a 404, as everywhere). Returns the household; the caller renders it with
    ``Cache-Control: no-store``.
    """
    if actor is None or not can(actor, Action.REVEAL_PERSONAL_DATA, household):
        raise ZhubaoError(ErrorCode.NOT_FOUND, _("Not found."), status_code=404)
    audit_record(
        user=actor,
        action=AuditEvent.Action.PERSONAL_DATA_VIEWED,
        obj=household,
        detail={"fields": list(PERSONAL_DATA_FIELDS), "via": via},
        request=request,
    )
    return household
