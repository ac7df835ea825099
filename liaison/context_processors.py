from core.access import has_action

from .access import MANAGE_PAIRING


def navigation(request):
    """Whether the signed-in user gets the pairing pages' menu entry (a keeper of a work team)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_pairing": has_action(user, MANAGE_PAIRING)}
