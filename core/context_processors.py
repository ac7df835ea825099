from .access import Action, has_action


def navigation(request):
    """Which menu entries the signed-in user gets (decided by the access module)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            # The tree, households and grids: not for a department handler, whose work is the issue list.
            "tree": has_action(user, Action.VIEW),
            "people": has_action(user, Action.VIEW_PEOPLE),
            "import": has_action(user, Action.IMPORT),
            "export": has_action(user, Action.EXPORT),
            "admin": has_action(user, Action.MANAGE_TREE),
        }
    }
