"""Writes of the liaison work: the team and its groups (teams.py), the dated pairing (pairing.py)."""

from .pairing import (
    HandOverPlan,
    PairingPlan,
    hand_over_plan,
    membership_on,
    pairing_create,
    pairing_end,
    pairings_create,
    pairings_hand_over,
    pairings_plan,
)
from .teams import (
    work_group_create,
    work_group_member_add,
    work_group_member_create,
    work_group_member_leave,
    work_group_set_leader,
    work_team_create,
    work_team_update,
)

__all__ = [
    "HandOverPlan",
    "PairingPlan",
    "hand_over_plan",
    "membership_on",
    "pairing_create",
    "pairing_end",
    "pairings_create",
    "pairings_hand_over",
    "pairings_plan",
    "work_group_create",
    "work_group_member_add",
    "work_group_member_create",
    "work_group_member_leave",
    "work_group_set_leader",
    "work_team_create",
    "work_team_update",
]
