"""liaison's part of the access module: work teams and groups are reached through the org
nodes they are paired with. Imported by ``LiaisonConfig.ready()``."""

from django.db.models import Q

from core.access import condition, register_rule
from grid.models import OrgNode

from .models import WorkGroup, WorkTeam


def register() -> None:
    register_rule(WorkTeam, work_team_rule)
    register_rule(WorkGroup, work_group_rule)


def _visible_nodes(user, action: str):
    """The ids of the org nodes the user reaches for the action, or None for all of them."""
    nodes = condition(OrgNode, user, action)
    return None if nodes is None else OrgNode.objects.filter(nodes).values("id")


def work_team_rule(user, action: str) -> Q | None:
    nodes = _visible_nodes(user, action)
    return None if nodes is None else Q(community_id__in=nodes)


def work_group_rule(user, action: str) -> Q | None:
    nodes = _visible_nodes(user, action)
    return None if nodes is None else Q(compound_id__in=nodes) | Q(team__community_id__in=nodes)
