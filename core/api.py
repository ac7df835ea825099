"""Shared pieces of the REST API: pagination, the scoped viewset base and its permission.

Every API queryset goes through ``core.access.scope()`` for the action the request needs:
reads with ``read_action`` (VIEW unless a viewset says otherwise), writes with the
viewset's ``write_action``. An object outside that scope is a 404, also when the user may
see it but not change it. Related objects named in a payload (a household's building, a
node's new parent) are looked up through the same scope, so an id out of reach reads as
"does not exist" (400 on that field).
"""

import functools

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import filters, mixins, permissions, serializers, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.response import Response
from rest_framework.settings import api_settings

from .access import Action, forget_scope, has_action, is_global, scope
from .errors import ErrorCode, ZhubaoError
from .paging import CappedPaginator, count_cap

# Sent by HTML forms (the browsable API), not part of any payload.
_FORM_FIELDS = {"csrfmiddlewaretoken"}
_UNKNOWN_FIELD = _("This field cannot be set here.")
_UNKNOWN_PARAMETER = _("This list has no such filter.")
# For a masked value (138****1234) sent back as if it were the real one.
MASKED_INPUT = _("This is a masked value. Please enter the full value.")
# The range of an id (a positive bigint). Anything outside it cannot name a row, and would
# overflow the database driver (SQLite's OverflowError, PostgreSQL's NumericValueOutOfRange):
# id inputs are bounded to it before they reach a query.
ID_MIN = 1
ID_MAX = 2**63 - 1


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CappedCountPagination(StandardPagination):
    """``StandardPagination`` for lists that grow with the city (households): ``count`` is exact for
    a user whose grants bound the list and stops at ``core.paging.COUNT_CAP`` for one who acts
    everywhere; then ``count_capped`` is true ("more than ``count``") and ``next`` / ``previous``
    page on as usual. ``?page=last`` is the last page the cap covers."""

    def paginate_queryset(self, queryset, request, view=None, *, count_rows=None):
        """``count_rows``: the same rows to count when ``queryset`` joins tables only to show them."""
        action = getattr(view, "read_action", Action.VIEW)
        self.django_paginator_class = functools.partial(
            CappedPaginator, cap=count_cap(request.user, action), count_rows=count_rows
        )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "true: there are more than count rows (a city-wide list is counted up to a cap)",
        }
        return answer


def acts_everywhere(user, action: str) -> bool:
    """Whether the user's grants allow ``action`` in every community (a global admin).

    For the few decisions that have no row to scope: creating a new community, granting
    the global admin role, picking a department.
    """
    return is_global(user, action)


class ScopedActionPermission(permissions.IsAuthenticated):
    """Logged in; creating needs a grant for the viewset's write action somewhere.

    Object-level access is not decided here but by the scoped queryset (out of scope is a
    404, never a 403). A collection-level create by a user with no such grant anywhere
    answers 403: there is no object whose existence it could reveal.
    """

    message = _("You do not have permission to do this.")

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) == "create":
            return has_action(request.user, view.write_action)
        return True


class ScopedViewSetMixin:
    """Base for the API's viewsets: ``get_queryset()`` is always scoped.

    Subclasses set ``base_queryset()`` (joins and annotations, no filtering by org),
    ``write_action`` and, for extra actions, ``action_scopes`` naming the access action
    each DRF action needs. Reads default to ``read_action``; any other method to
    ``write_action``.
    """

    lookup_value_converter = "int"
    pagination_class = StandardPagination
    permission_classes = [ScopedActionPermission]
    http_method_names = ["get", "post", "patch", "head", "options"]
    read_action: str
    write_action: str
    action_scopes: dict[str, str] = {}

    def base_queryset(self):
        raise NotImplementedError

    def access_action(self) -> str:
        if self.action in self.action_scopes:
            return self.action_scopes[self.action]
        if self.request.method in permissions.SAFE_METHODS:
            return self.read_action
        return self.write_action

    def get_queryset(self):
        action = self.access_action()
        if action != self.read_action and not has_action(self.request.user, action):
            # Fail closed on writes: a user holding no grant for the action changes nothing,
            # not even the rows a rule grants everyone (their own user row).
            return self.base_queryset().none()
        return scope(self.base_queryset(), self.request.user, action)

    def read_queryset(self):
        """The queryset reads use, whatever the current action (to answer after a write)."""
        return scope(self.base_queryset(), self.request.user, self.read_action)

    def read_instance(self, pk):
        """Reload one object as a read would show it (annotations, masking) after a write.

        The user's scope is rebuilt first: a tree write shifts the mptt bounds the cached
        scope holds.
        """
        forget_scope(self.request.user)
        return self._first_or_404(self.read_queryset(), pk=pk)

    def filter_queryset(self, queryset):
        """Filter as DRF does, after refusing query parameters the endpoint does not know.

        A misspelt filter (``?compund=1``) used to be ignored and the answer held everything in
        scope, which a client could take for the filtered list; now it is a 400 naming it.
        """
        unknown = sorted(set(self.request.query_params) - self.known_query_parameters())
        if unknown:
            raise ZhubaoError(
                ErrorCode.INVALID,
                _("Unknown query parameter: %(names)s.") % {"names": ", ".join(unknown)},
                fields={name: [str(_UNKNOWN_PARAMETER)] for name in unknown},
            )
        return super().filter_queryset(queryset)

    def known_query_parameters(self) -> set[str]:
        """The query parameters this endpoint reads: its filters, search, ordering, paging, format."""
        known = {api_settings.URL_FORMAT_OVERRIDE} - {None}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            for name, filter_ in filterset_class.base_filters.items():
                known.add(name)
                # Range-style filters read name_min / name_max (name_after / name_before …).
                known.update(f"{name}_{suffix}" for suffix in getattr(filter_.field.widget, "suffixes", ()) if suffix)
        known.update(getattr(self, "filterset_fields", None) or ())
        backends = tuple(self.filter_backends)
        if getattr(self, "search_fields", None) and any(issubclass(b, filters.SearchFilter) for b in backends):
            known.add(api_settings.SEARCH_PARAM)
        if any(issubclass(backend, filters.OrderingFilter) for backend in backends):
            known.add(api_settings.ORDERING_PARAM)
        paginator = self.paginator
        if paginator is not None:
            known.update(
                name
                for name in (
                    getattr(paginator, "page_query_param", None),
                    getattr(paginator, "page_size_query_param", None),
                )
                if name
            )
        return known

    def get_object(self):
        """The object of a detail route, from the scoped queryset of this action (else 404)."""
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        queryset = self.filter_queryset(self.get_queryset())
        obj = self._first_or_404(queryset, **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        self.check_object_permissions(self.request, obj)
        return obj

    @staticmethod
    def _first_or_404(queryset, **lookup):
        # filter().first() rather than get(): django-zeal counts every Model.get() of a
        # request, and the session's own User.get() made a users/{id}/ answer look like an N+1.
        obj = queryset.filter(**lookup).first()
        if obj is None:
            raise Http404
        return obj

    def payload(self, serializer_class, *, instance=None, partial=False) -> dict:
        """The validated payload of this request (400 with field errors otherwise).

        A field the endpoint does not take is an error, not silently dropped: a client that
        sends ``parent`` to a rename or misspells ``phone`` learns it at once.
        """
        serializer = serializer_class(
            instance, data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        data = self.request.data if hasattr(self.request.data, "keys") else {}
        unknown = set(data.keys()) - set(serializer.fields) - _FORM_FIELDS
        if unknown:
            raise serializers.ValidationError({name: [_UNKNOWN_FIELD] for name in sorted(unknown)})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, obj, status_code=status.HTTP_200_OK) -> Response:
        """Answer a write with the object as a read shows it."""
        return Response(self.get_serializer(self.read_instance(obj.pk)).data, status=status_code)


class ScopedListRetrieveViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve through the scope; subclasses add their writes (no DELETE)."""


class _BulkManyRelatedField(serializers.ManyRelatedField):
    """A list of keys resolved with one query (DRF looks each key up apart: an N+1)."""

    def to_internal_value(self, data):
        if isinstance(data, (str, dict)) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        data = list(data)
        if not self.allow_empty and not data:
            self.fail("empty")
        return self.child_relation.to_internal_values(data)


class _BulkLookupMixin:
    """Single keys with ``filter().first()``, lists of keys with one ``__in`` query."""

    lookup_field_name = "pk"

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return _BulkManyRelatedField(**list_kwargs)

    def clean_key(self, data):
        return data

    def to_internal_value(self, data):
        return self.to_internal_values([data])[0]

    def to_internal_values(self, data: list) -> list:
        keys = list(dict.fromkeys(self.clean_key(item) for item in data))
        found = {
            getattr(obj, self.lookup_field_name): obj
            for obj in self.get_queryset().filter(**{f"{self.lookup_field_name}__in": keys})
        }
        for key in keys:
            if key not in found:
                self.fail_missing(key)
        return [found[key] for key in keys]


class ScopedPrimaryKeyRelatedField(_BulkLookupMixin, serializers.PrimaryKeyRelatedField):
    """A related object named in a payload, looked up through ``core.access.scope()``.

    An id the user may not reach for ``access_action`` gets the same answer as an id that
    does not exist. With ``many=True`` the ids are looked up in one query.
    """

    def __init__(self, *, access_action: str, **kwargs):
        self.access_action = access_action
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return scope(queryset, request.user, self.access_action)

    def clean_key(self, data):
        if isinstance(data, bool) or (isinstance(data, float) and not data.is_integer()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            key = int(data)
        except (TypeError, ValueError, OverflowError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not ID_MIN <= key <= ID_MAX:
            # No row has such an id; it must not reach the database (it would overflow there).
            self.fail("does_not_exist", pk_value=data)
        return key

    def fail_missing(self, key):
        self.fail("does_not_exist", pk_value=key)


class CodeRelatedField(_BulkLookupMixin, serializers.SlugRelatedField):
    """Objects named by a code (``slug_field``); with ``many=True`` in one query."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lookup_field_name = self.slug_field

    def clean_key(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def fail_missing(self, key):
        self.fail("does_not_exist", slug_name=self.slug_field, value=key)


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (core.errors.api_exception_handler), for the schema."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


# Responses every write endpoint documents besides its success.
WRITE_ERRORS = {400: ErrorSerializer, 404: ErrorSerializer}


class LocalSwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's local static files, with no outside call.

    Under the Content-Security-Policy (no inline script or style): the split view serves the
    start-up script from a second request to this view (``?script``), and our template takes the
    page's inline <style> to static/css/swagger_page.css. Swagger UI's default ``validatorUrl``
    makes the browser fetch a badge from validator.swagger.io (sending it the schema's address);
    it is switched off.
    """

    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if "settings" in response.data:  # the start-up script
            ui_settings = {**spectacular_settings.SWAGGER_UI_SETTINGS, "validatorUrl": None}
            response.data["settings"] = self._dump(ui_settings)
        return response
