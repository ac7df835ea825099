"""Household search as people type it: an address, a head's name, the end of a phone number.

The query is normalised (core.text: full-width digits, "－" and spaces as typed on a phone)
and parsed into parts, and each part becomes an equality (or a prefix) on an indexed column,
so a search stays an index lookup inside the user's scope at 200,000 households:

- "3号楼2单元402", "3栋2单元402室", "阳光小区3号楼": (estate?, building number, unit?, room?)
  → ``building_id IN`` (buildings whose place name is 3号楼/3栋/3幢/3号, under the estate if
  named; ``org_node_place_name_idx``) and ``unit = …``, ``room = …``
  (``household_unique_active_address``);
- "1-2-502" (building-unit-room) and "3-402" (building-room): the same;
- four digits, "5678": the phone's last four digits (``phone_tail``, index
  ``(phone_tail, community_id)``) or a room (``(room, community_id)``); three digits or five
  or more: a room;
- anything else, "张" or "阳光小区": a head's name by prefix (``(head_name, community_id)``
  with ``varchar_pattern_ops`` on PostgreSQL, so ``LIKE '张%'`` uses it), or an estate or a
  building by its place name.

Each index leads with the searched column, so a city-wide admin's search is an index lookup
too; a community's adds its id as the second column. Place names are looked up among the
nodes the user sees.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from core.text import normalise_text

from .models import OrgNode, OrgNodeKind
from .rules import normalise_household_field, normalise_room, normalise_unit

_NUMBER = r"[0-9]+[A-Za-z]?"
_BUILDING_WORDS = ("号楼", "栋", "幢", "号", "楼")
_DASHED = re.compile(rf"^(?P<estate>[^0-9]*?)(?P<building>{_NUMBER})-(?:(?P<unit>{_NUMBER})-)?(?P<room>{_NUMBER})$")
_SPOKEN = re.compile(
    rf"^(?P<estate>[^0-9]*?)(?P<building>{_NUMBER})(?:号楼|栋|幢|号|楼)"
    rf"(?:(?P<unit>{_NUMBER})单元)?(?:(?P<room>{_NUMBER})(?:室|号|房)?)?$"
)
_DIGITS = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class AddressQuery:
    """The parts of an address a search names (empty: not named)."""

    estate: str = ""
    building: str = ""  # the building's number, "3" of 3号楼
    unit: str = ""
    room: str = ""


def parse_address(text: str) -> AddressQuery | None:
    """The address a query names, or None when it names no building."""
    compact = re.sub(r"\s+", "", normalise_text(text)).replace("－", "-").replace("—", "-")
    match = _DASHED.match(compact) or _SPOKEN.match(compact)
    if match is None:
        return None
    parts = match.groupdict()
    return AddressQuery(
        estate=(parts["estate"] or "").strip(),
        building=parts["building"],
        unit=normalise_unit(parts.get("unit") or ""),
        room=normalise_room(parts.get("room") or ""),
    )


def _building_names(number: str) -> list[str]:
    return [f"{number}{word}" for word in _BUILDING_WORDS] + [number]


# Up to this many place ids go into the household condition as a literal list; more (a city-wide
# user searching "3号楼": one in every compound) as a subquery, which PostgreSQL turns into a hash
# semi-join while it walks the list index in order.
LITERAL_IDS_MAX = 500


def _ids(queryset):
    # Place ids are read first (one small indexed query), so the household condition is an
    # equality on a literal list the planner can match to an index; a long list stays a subquery.
    ids = list(queryset.values_list("id", flat=True).order_by()[: LITERAL_IDS_MAX + 1])
    return ids if len(ids) <= LITERAL_IDS_MAX else queryset.values("id").order_by()


def _address_condition(address: AddressQuery, nodes) -> Q:
    buildings = nodes.filter(kind=OrgNodeKind.BUILDING, place_name__in=_building_names(address.building))
    if address.estate:
        # Estates are few in a city, and a cadre may name the estate of their building without
        # seeing the estate's node: looked up among all nodes; its buildings among the visible.
        compounds = OrgNode.objects.filter(kind=OrgNodeKind.COMPOUND, place_name=address.estate)
        buildings = buildings.filter(parent_id__in=_ids(compounds))
    condition = Q(building_id__in=_ids(buildings))
    if address.unit:
        condition &= Q(unit=address.unit)
    if address.room:
        condition &= Q(room=address.room)
    return condition


def household_search_condition(text: str, *, nodes: Callable[[], QuerySet] | None = None) -> Q | None:
    """The condition a search query puts on households (None: an empty query).

    Reads the org nodes a query names (one query, ``org_node_place_name_idx``) when it names
    places; the buildings an address names among ``nodes()`` (the user's visible nodes, built
    only for an address: a community's "3号楼" are a few ids, not the city's 2,500); the
    households themselves are filtered by the caller's scoped queryset.
    """
    query = normalise_text(text)
    if not query:
        return None
    address = parse_address(query)
    if address is not None:
        return _address_condition(address, OrgNode.objects.all() if nodes is None else nodes())
    compact = normalise_room(query.replace(" ", ""))  # "502室" is room 502
    if _DIGITS.match(compact):
        condition = Q(room=compact)
        if len(compact) == 4:
            condition |= Q(phone_tail=compact)
        return condition
    condition = Q(head_name__startswith=normalise_household_field("head_name", text))
    # A place named like the query ("阳光小区"): its households too, one ``IN`` list per column
    # (compounds, buildings), so each branch of the OR is an index range (a BitmapOr).
    # Within the trees (communities) the user sees: a name many estates of the city share (综合楼,
    # 北楼) must not fill the capped list with other communities' places and leave the user's own
    # out. The tree, not the visible nodes: a cadre names the estate of their building.
    places = OrgNode.objects.filter(place_name=compact, kind__in=[OrgNodeKind.COMPOUND, OrgNodeKind.BUILDING])
    if nodes is not None:
        places = places.filter(tree_id__in=nodes().values("tree_id"))
    ids = {OrgNodeKind.COMPOUND: [], OrgNodeKind.BUILDING: []}
    for kind, node_id in places.values_list("kind", "id").order_by()[:LITERAL_IDS_MAX]:
        ids[kind].append(node_id)
    if ids[OrgNodeKind.COMPOUND]:
        condition |= Q(compound_id__in=ids[OrgNodeKind.COMPOUND])
    if ids[OrgNodeKind.BUILDING]:
        condition |= Q(building_id__in=ids[OrgNodeKind.BUILDING])
    return condition
