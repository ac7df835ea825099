"""Writes for people, departments and role grants (a package, STYLE.md §1).

``people`` creates and changes accounts (and their passwords); ``grants`` gives and revokes
roles at places (and creates a person with a first grant). Callers import from ``accounts.services``.
"""

from .grants import role_grant_add, role_grant_revoke, user_create_with_grant
from .people import (
    department_create,
    user_api_logout,
    user_api_token_issue,
    user_api_tokens_revoke,
    user_create,
    user_deactivate,
    user_deactivated,
    user_reactivate,
    user_set_password,
    user_unlock,
)

__all__ = ["department_create", "role_grant_add", "role_grant_revoke", "user_create", "user_create_with_grant"]
__all__ += [  # passwords, API tokens, lockouts and deactivation
    "user_api_logout",
    "user_api_token_issue",
    "user_api_tokens_revoke",
    "user_deactivate",
    "user_deactivated",
    "user_reactivate",
    "user_set_password",
    "user_unlock",
]
