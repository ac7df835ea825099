"""Signal receivers of the grid app: the tree version follows every node and tag write (grid.caching)."""

from django.db.models.signals import post_delete, post_save

from .caching import tree_changed
from .models import OrgNode, Tag


def _changed(sender, **kwargs) -> None:
    tree_changed()


def connect() -> None:
    for model in (OrgNode, Tag):
        post_save.connect(_changed, sender=model, dispatch_uid=f"grid-tree-version-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"grid-tree-version-delete-{model.__name__}")
