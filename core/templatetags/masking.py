"""Masking (脱敏) in templates: ``{% load masking %}{{ person.phone|masked_phone }}`` → 138****1234."""

from django import template

from core.masking import mask_phone

register = template.Library()


@register.filter
def masked_phone(value) -> str:
    return mask_phone(str(value or ""))
