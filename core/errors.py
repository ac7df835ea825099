"""One application error type, and the DRF handler that renders it.

Services raise ``ZhubaoError(code, message, fields)``: a stable machine code, a
translated message for people, and optional per-field messages. The API answers
``{"code", "message", "fields"}`` with status 400; HTML views put it on the form.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorCode:
    """Stable codes clients may switch on. Add, never rename."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    NOT_AUTHENTICATED = "not_authenticated"
    WRONG_PARENT_KIND = "wrong_parent_kind"
    MOVE_INTO_OWN_SUBTREE = "move_into_own_subtree"
    NODE_HAS_ACTIVE_HOUSEHOLDS = "node_has_active_households"
    NODE_INACTIVE = "node_inactive"
    DUPLICATE = "duplicate"
    BUILDING_OUTSIDE_COMMUNITY = "building_outside_community"
    IMPORT_INVALID = "import_invalid"
    OUT_OF_SCOPE = "out_of_scope"
    MOVE_CHANGED = "move_changed"
    IMPORT_REFUSED = "import_refused"  # confirm or undo of an import that is not the user's to do now
    IMPORT_UNDO_CONFLICT = "import_undo_conflict"  # rows the import wrote were changed since


class ZhubaoError(Exception):
    def __init__(self, code: str, message: str, fields: dict | None = None, status_code: int = 400):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.fields = fields or {}
        self.status_code = status_code

    @classmethod
    def from_validation_error(cls, error: DjangoValidationError) -> "ZhubaoError":
        if hasattr(error, "error_dict"):
            fields = {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
            non_field = fields.pop("__all__", [])
            message = non_field[0] if non_field else _("Please correct the highlighted fields.")
            return cls(ErrorCode.INVALID, message, fields)
        return cls(ErrorCode.INVALID, "; ".join(str(m) for m in error.messages))

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


def full_clean_or_raise(instance, **kwargs) -> None:
    """``instance.full_clean()``, with Django's ValidationError turned into a ZhubaoError (services use it)."""
    try:
        instance.full_clean(**kwargs)
    except DjangoValidationError as error:
        raise ZhubaoError.from_validation_error(error) from error


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [str(item) if not isinstance(item, (dict, list)) else _flatten(item) for item in detail]
    return [str(detail)]


def api_exception_handler(exc, context):
    """Every API error has the same shape: {"code", "message", "fields"}."""
    if isinstance(exc, ZhubaoError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(ZhubaoError.from_validation_error(exc).as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten(exc.detail) if isinstance(exc.detail, dict) else {}
        non_field = fields.pop("non_field_errors", []) if isinstance(fields, dict) else []
        message = non_field[0] if non_field else _("Please correct the highlighted fields.")
        if not isinstance(exc.detail, dict):
            message = "; ".join(_flatten(exc.detail))
        response.data = {"code": ErrorCode.INVALID, "message": message, "fields": fields}
        return response
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, drf_exceptions.NotFound):
        code = ErrorCode.NOT_FOUND
    detail = exc.detail if hasattr(exc, "detail") else str(exc)
    response.data = {"code": str(code), "message": str(detail), "fields": {}}
    return response
