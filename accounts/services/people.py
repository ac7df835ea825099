"""Writes for people (accounts) and departments."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise

from ..models import Department, User


@transaction.atomic
def user_create(
    *, actor, username: str, password: str | None, full_name: str = "", phone: str = "", check_password=True
) -> User:
    user = User(username=username.strip(), full_name=full_name.strip(), phone=phone.strip())
    if password:
        if check_password:
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise ZhubaoError(ErrorCode.INVALID, error.messages[0], {"password": error.messages}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    full_clean_or_raise(user, exclude=["password"])
    user.save()
    return user


@transaction.atomic
def department_create(*, actor, name: str, code: str) -> Department:
    department = Department(name=name.strip(), code=code.strip())
    full_clean_or_raise(department)
    department.save()
    return department
