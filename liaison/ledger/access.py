"""How pairing-ledger import jobs are reached (registered with core.access from LiaisonConfig.ready()).

A job is its uploader's, and is also seen by those who keep the job's team (MANAGE_PAIRING: an admin of the
community or the team's leader), who may read its check but not confirm it (``ledger_import_refusal``).
Everyone else gets a 404.
"""

from django.db.models import Q

from core.access import register_rule

from ..access import MANAGE_PAIRING, work_team_rule
from ..models import WorkTeam
from .models import LedgerImportJob


def ledger_import_job_rule(user, action: str) -> Q | None:
    teams = work_team_rule(user, MANAGE_PAIRING)
    if teams is None:
        return None
    return Q(created_by_id=user.pk) | Q(team_id__in=WorkTeam.objects.filter(teams).values("id"))


def register() -> None:
    register_rule(LedgerImportJob, ledger_import_job_rule)
