"""Every write to the org tree, households and grids.

Keyword-only, wrapped in a transaction, ``full_clean()`` before ``save()``; errors are
``ZhubaoError`` with a translated message. A package (STYLE.md §1): ``tree`` for the org
tree and its lock, ``households`` for households and tags, ``grids`` for grids and posts.
Callers import from ``grid.services``; the names below are its public surface.
"""

from .contacts import grid_post_holder_phone_reveal
from .grids import (
    grid_create,
    grid_post_create,
    grid_post_fill,
    grid_post_vacate,
    grid_set_buildings,
    grid_set_colour,
    grid_update,
)
from .households import (
    HOUSEHOLD_FIELDS,
    household_create,
    household_deactivate,
    household_personal_data_reveal,
    household_update,
    tag_ensure_defaults,
)
from .tree import (
    MovePlan,
    org_node_create,
    org_node_deactivate,
    org_node_move,
    org_node_move_plan,
    org_node_reactivate,
    org_node_rename,
    org_tree_lock,
)

__all__ = [
    "MovePlan",
    "HOUSEHOLD_FIELDS",
    "grid_create",
    "grid_post_create",
    "grid_post_fill",
    "grid_post_holder_phone_reveal",
    "grid_post_vacate",
    "grid_set_buildings",
    "grid_set_colour",
    "grid_update",
    "household_create",
    "household_deactivate",
    "household_personal_data_reveal",
    "household_update",
    "org_node_create",
    "org_node_deactivate",
    "org_node_move",
    "org_node_move_plan",
    "org_node_reactivate",
    "org_node_rename",
    "org_tree_lock",
    "tag_ensure_defaults",
]
