"""Contacts of the people who work on a grid: the holder of a grid post, shown to those who see the grid.

A cadre must be able to find their grid worker: the grid page names each post's holder and
shows their phone masked (138****1234). The full number is personal data: only roles that may
reveal personal data on that grid get it, and every reveal is audited, as for households.
"""

from django.utils.translation import gettext as _

from core.access import Action, can
from core.errors import ErrorCode, ZhubaoError
from core.models import AuditEvent
from core.services import audit_record

from ..models import GridPost


def grid_post_holder_phone_reveal(*, actor, post: GridPost, request=None) -> str:
    """The full phone number of ``post``'s holder, for an actor allowed to reveal personal data on its grid.

    Out of reach (no such right on the post's grid, or no actor) is a 404, as everywhere. A vacant
    post, or a holder without a phone, reveals nothing and records nothing (""). The caller
    renders the number with ``Cache-Control: no-store``.
    """
    if actor is None or not can(actor, Action.REVEAL_PERSONAL_DATA, post):
        raise ZhubaoError(ErrorCode.NOT_FOUND, _("Not found."), status_code=404)
    holder = post.holder
    if holder is None or not holder.phone:
        return ""
    audit_record(
        user=actor,
        action=AuditEvent.Action.PERSONAL_DATA_VIEWED,
        obj=holder,
        detail={"fields": ["phone"], "via": "grid_post", "grid_post": post.pk, "grid": post.grid_id},
        request=request,
    )
    return holder.phone
