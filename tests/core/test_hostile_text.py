"""Hostile text on input (issue 6, defects 11 and 12): control characters, bidi overrides and ANSI
escapes are refused on every face that stores text, as typed (before a field strips or normalises
them away), and a name cannot start as a spreadsheet formula. The Excel import's side is tested
with the import (tests/grid).

Three walks keep future code from missing the rule: every text field of the project's models has
the validators, every admin form that edits text is a ``SafeTextFormMixin``, every write
serializer with text fields a ``SafeTextSerializerMixin``.
"""

import inspect

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models
from django.urls import reverse
from django.utils import translation
from rest_framework import serializers
from rest_framework.test import APIClient

import accounts.serializers
import grid.serializers
from accounts.models import Department, User
from core.errors import ZhubaoError
from core.text import (
    FORMULA_MESSAGE,
    SafeTextFormMixin,
    SafeTextSerializerMixin,
    typed_text_error,
    unsafe_text_error,
    validate_no_formula,
    validate_safe_text,
)
from grid.forms import HouseholdForm, OrgNodeNameForm
from grid.models import Grid, GridPost, Household, OrgNode
from grid.services import grid_create, grid_post_create, household_create, household_update, org_node_create
from liaison.services import work_team_create

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"core", "accounts", "grid", "liaison", "issues", "demo"}

# (what is typed, the character the message names)
HOSTILE = [
    ("阳光\u000b小区", "U+000B"),  # vertical tab: openpyxl cannot write it, the export answered 500
    ("\u202e阳光小区", "U+202E"),  # right-to-left override: reads in another order than stored
    ("\x1b[31m阳光小区", "U+001B"),  # ANSI escape: colours a terminal, hides text in a log
    ("阳光小区\u000b", "U+000B"),  # at the end, where str.strip() would drop it silently
]
FORMULAS = ['=HYPERLINK("http://x.cn","点")', "+1", "-x", "@x", "＝1+1"]


def english():
    return translation.override("en")


# --- core.text --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["张建国", "第一行\n第二行\r\n", "列\t值", "", None, 12])
def test_text_people_type_passes_including_tabs_and_line_breaks(value):
    validate_safe_text(value)
    assert unsafe_text_error(value) is None


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("a\x00b", "U+0000"),
        ("a\x07b", "U+0007"),
        ("a\x7fb", "U+007F"),
        ("a\x85b", "U+0085"),
        ("a\u2066b\u2069", "U+2066, U+2069"),
        ("a\u202ab\u202a", "U+202A"),
    ],
)
def test_control_characters_and_bidi_controls_are_refused_and_named_once(value, named):
    with english():
        with pytest.raises(ValidationError) as raised:
            validate_safe_text(value)
        assert raised.value.code == "unsafe_characters"
        assert f"({named})" in raised.value.messages[0]


def test_typed_text_error_names_each_field_that_holds_one():
    error = typed_text_error(name="阳光\x0b", code="01", place_name=["ok", "\u202e"])
    assert set(error.message_dict) == {"name", "place_name"}
    assert typed_text_error(name="阳光小区", code="") is None


@pytest.mark.parametrize("value", FORMULAS + ["  =1", "\u3000@x"])
def test_a_name_that_starts_as_a_formula_is_refused(value):
    with pytest.raises(ValidationError) as raised:
        validate_no_formula(value)
    assert raised.value.code == "formula"


@pytest.mark.parametrize("value", ["张建国", "1号楼", "A-1", "x=1", "李@家"])
def test_a_name_with_those_signs_inside_is_accepted(value):
    validate_no_formula(value)


# --- every text field of every model has the validators ----------------------------------------

# Text fields nobody types into (or that are checked by a validator of their own), and why.
EXEMPT = {
    "accounts.User.password": "a password hash the system computes",
    "accounts.User.first_name": "Django's; on no form (people type full_name)",
    "accounts.User.last_name": "Django's; on no form (people type full_name)",
    "core.AuditEvent.object_type": "written by the system (core.services.audit_record)",
    "core.AuditEvent.object_id": "written by the system (core.services.audit_record)",
    "core.ExportJob.kind": "the name of a registered export, set by the code that starts it",
    "core.ExportJob.file_name": "made by the system from the export's kind and date",
    "core.ExportJob.error_code": "a stable code the system sets",
    "grid.Household.phone_tail": "the phone's last four digits, computed by the services",
    "grid.ImportJob.original_name": "the uploaded file's name as the browser sent it; not typed, never exported",
}


def _is_name(field) -> bool:
    return field.name in {"name", "title", "username"} or field.name.endswith("_name")


def _text_fields():
    for config in apps.get_app_configs():
        if config.name not in PROJECT_APPS:
            continue
        for model in config.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, (models.CharField, models.TextField)):
                    yield f"{config.label}.{model.__name__}.{field.name}", field


def _typed_text_fields():
    for key, field in _text_fields():
        if key in EXEMPT or field.choices or isinstance(field, models.SlugField):
            continue
        yield key, field


def test_the_walk_finds_the_fields_people_type():
    keys = {key for key, _field in _typed_text_fields()}
    assert {
        "grid.Household.head_name",
        "grid.OrgNode.name",
        "grid.Grid.colour_reason",
        "accounts.User.full_name",
        "liaison.WorkTeam.bureau_name",
    } <= keys


def test_every_text_field_people_type_refuses_control_characters():
    missing = [key for key, field in _typed_text_fields() if validate_safe_text not in field.validators]
    assert not missing, f"add validators=[validate_safe_text] (core.text) or list the field in EXEMPT: {missing}"


def test_every_name_refuses_a_leading_formula_sign():
    missing = [
        key for key, field in _typed_text_fields() if _is_name(field) and validate_no_formula not in field.validators
    ]
    assert not missing, f"add validate_no_formula (core.text) to these names: {missing}"


def test_exempt_codes_are_slugs_or_choices():
    # A slug's own validator admits ASCII letters, digits, - and _ only; a choice its listed values.
    for key, field in _text_fields():
        if isinstance(field, models.SlugField):
            assert validate_slug in field.validators, key


# --- every admin form and write serializer checks what was typed --------------------------------


def _typed_field_names(model) -> set[str]:
    prefix = f"{model._meta.app_label}.{model.__name__}."
    return {key.removeprefix(prefix) for key, _field in _typed_text_fields() if key.startswith(prefix)}


def _admins():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        yield model, model_admin
        for inline in model_admin.inlines:
            yield inline.model, inline


def test_every_admin_form_that_edits_text_checks_it_as_typed():
    unchecked = []
    for model, model_admin in _admins():
        if not _typed_field_names(model):
            continue
        if not (getattr(model_admin, "allow_add", True) or getattr(model_admin, "allow_change", True)):
            continue  # read-only (ReadOnlyModelAdmin)
        for form in {model_admin.form, getattr(model_admin, "add_form", model_admin.form)}:
            if not issubclass(form, SafeTextFormMixin):
                unchecked.append(f"{type(model_admin).__name__}: {form.__name__}")
    assert not unchecked, f"use core.text.SafeTextModelForm or SafeTextFormMixin: {unchecked}"


# Serializers that only shape answers (never read a payload).
ANSWER_ONLY = {"MovePlanSerializer"}


@pytest.mark.parametrize("module", [grid.serializers, accounts.serializers])
def test_every_write_serializer_with_text_fields_checks_them_as_sent(module):
    unchecked = []
    for name, cls in inspect.getmembers(module, inspect.isclass):
        if not issubclass(cls, serializers.Serializer) or cls.__module__ != module.__name__ or name in ANSWER_ONLY:
            continue
        writable = [
            field
            for field in cls().fields.values()
            if isinstance(field, serializers.CharField)
            and not field.read_only
            and field.style.get("input_type") != "password"
        ]
        if writable and not issubclass(cls, SafeTextSerializerMixin):
            unchecked.append(name)
    assert not unchecked, f"add core.text.SafeTextSerializerMixin: {unchecked}"


# --- the faces ---------------------------------------------------------------------------------


@pytest.fixture
def client_en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def api_en():
    def _client(user):
        client = APIClient()
        client.cookies["django_language"] = "en"
        client.force_login(user)
        return client

    return _client


def _formula_message() -> str:
    with english():
        return str(FORMULA_MESSAGE)


def _household_form_data(org, **change):
    return {
        "building": org.building1.pk,
        "unit": "3",
        "room": "301",
        "head_name": "孙立新",
        "phone": "+86 138 1234 5678",
        "id_number": "",
        "resident_count": 2,
        **change,
    }


def _form_errors(response, field):
    assert response.status_code == 200, response.status_code
    return [str(message) for message in response.context["form"].errors.get(field, [])]


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
@pytest.mark.parametrize("field", ["head_name", "room", "care_reason"])
def test_the_portal_household_form_refuses_hostile_text_with_the_message(org, login, client_en, typed, named, field):
    change = {field: typed, "is_care": "on"} if field == "care_reason" else {field: typed}
    response = login(org.users.staff).post(reverse("grid:household-create"), _household_form_data(org, **change))
    (message,) = _form_errors(response, field)
    assert named in message and "control characters" in message
    assert not Household.objects.filter(room="301").exists()


@pytest.mark.parametrize("typed", FORMULAS)
def test_the_portal_household_form_refuses_a_head_name_that_starts_as_a_formula(org, login, client_en, typed):
    response = login(org.users.staff).post(reverse("grid:household-create"), _household_form_data(org, head_name=typed))
    assert _form_errors(response, "head_name") == [_formula_message()]
    assert not Household.objects.filter(room="301").exists()


def test_the_portal_household_form_accepts_a_phone_with_a_plus_and_cleans_a_zero_width_space(org, login):
    response = login(org.users.staff).post(
        reverse("grid:household-create"), _household_form_data(org, head_name="孙\u200b立新")
    )
    assert response.status_code == 302
    household = Household.objects.get(room="301")
    assert (household.phone, household.head_name) == ("13812345678", "孙立新")


def test_the_household_form_refuses_a_control_character_that_normalising_would_leave_empty(org):
    form = HouseholdForm(
        data=_household_form_data(org, head_name="\u000b"),
        buildings=OrgNode.objects.filter(pk=org.building1.pk),
        hubs=OrgNode.objects.none(),
        tags=org.building1.households.none(),
    )
    assert not form.is_valid()
    with english():
        (message,) = form.errors["head_name"]
    assert "U+000B" in message  # not "This field is required."


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_api_refuses_hostile_text_in_a_new_household(org, api_en, typed, named):
    payload = {"building": org.building1.pk, "room": "301", "head_name": typed, "phone": "+86 138 1234 5678"}
    response = api_en(org.users.staff).post("/api/v1/households/", payload, format="json")
    assert response.status_code == 400, response.content
    (message,) = response.json()["fields"]["head_name"]
    assert named in message
    assert not Household.objects.filter(room="301").exists()


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_api_refuses_hostile_text_in_a_household_update(org, api_en, typed, named):
    url = f"/api/v1/households/{org.household1.pk}/"
    response = api_en(org.users.staff).patch(url, {"unit": typed, "head_name": "=1"}, format="json")
    assert response.status_code == 400, response.content
    fields = response.json()["fields"]
    assert named in fields["unit"][0]
    assert fields["head_name"] == [_formula_message()]  # both in one round
    org.household1.refresh_from_db()
    assert org.household1.unit == "1"


@pytest.mark.parametrize("typed", FORMULAS)
def test_the_api_refuses_a_head_name_that_starts_as_a_formula(org, api_en, typed):
    payload = {"building": org.building1.pk, "room": "301", "head_name": typed}
    response = api_en(org.users.staff).post("/api/v1/households/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["head_name"] == [_formula_message()]


def test_the_api_accepts_a_phone_with_a_plus(org, api_en):
    payload = {"building": org.building1.pk, "room": "301", "head_name": "孙立新", "phone": "+86 138 1234 5678"}
    response = api_en(org.users.staff).post("/api/v1/households/", payload, format="json")
    assert response.status_code == 201, response.content
    assert Household.objects.get(room="301").phone == "13812345678"


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_api_refuses_hostile_text_in_node_names_and_grids(org, api_en, typed, named):
    client = api_en(org.users.admin)
    created = client.post("/api/v1/org-nodes/", {"name": typed, "parent": org.compound1.pk}, format="json")
    renamed = client.patch(f"/api/v1/org-nodes/{org.building1.pk}/", {"name": "1号楼", "place_name": typed})
    grid = client.post("/api/v1/grids/", {"community": org.community.pk, "name": typed, "code": "09"}, format="json")
    for response, field in [(created, "name"), (renamed, "place_name"), (grid, "name")]:
        assert response.status_code == 400, response.content
        assert named in response.json()["fields"][field][0]
    assert not Grid.objects.filter(code="09").exists()
    org.building1.refresh_from_db()
    assert org.building1.place_name == "1号楼"


def _admin_node_data(node, **change):
    return {"name": node.name, "parent": node.parent_id, "place_name": node.place_name, "code": "", **change}


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_admin_org_node_change_form_refuses_hostile_text(org, login, client_en, typed, named):
    url = reverse("admin:grid_orgnode_change", args=[org.building1.pk])
    response = login(org.users.admin).post(url, _admin_node_data(org.building1, name=typed))
    assert response.status_code == 200
    (message,) = response.context["adminform"].form.errors["name"]
    assert named in message
    org.building1.refresh_from_db()
    assert org.building1.name == "1号楼党小组"


@pytest.mark.parametrize("typed", FORMULAS)
def test_the_admin_org_node_change_form_refuses_a_name_that_starts_as_a_formula(org, login, client_en, typed):
    url = reverse("admin:grid_orgnode_change", args=[org.building1.pk])
    response = login(org.users.admin).post(url, _admin_node_data(org.building1, place_name=typed))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["place_name"] == [_formula_message()]


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_admin_household_form_refuses_hostile_text_its_rule_would_drop(org, login, client_en, typed, named):
    url = reverse("admin:grid_household_add")
    data = {"building": org.building1.pk, "unit": "3", "room": "301", "head_name": typed, "resident_count": 1}
    response = login(org.users.admin).post(url, data)
    assert response.status_code == 200
    assert named in response.context["adminform"].form.errors["head_name"][0]
    assert not Household.objects.filter(room="301").exists()


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_tree_node_form_refuses_hostile_text(org, login, client_en, typed, named):
    client = login(org.users.admin)
    added = client.post(reverse("grid:node-add-child", kwargs={"pk": org.compound1.pk}), {"name": typed})
    renamed = client.post(reverse("grid:node-rename", kwargs={"pk": org.compound1.pk}), {"name": typed})
    for response in (added, renamed):
        (message,) = _form_errors(response, "name")
        assert named in message
    assert not OrgNode.objects.filter(name__contains="阳光小区", kind="building").exists()
    org.compound1.refresh_from_db()
    assert org.compound1.name == "阳光小区党支部"


@pytest.mark.parametrize("typed", FORMULAS)
def test_the_tree_node_form_refuses_a_name_that_starts_as_a_formula(typed):
    with english():
        form = OrgNodeNameForm(data={"name": typed, "place_name": "1号楼"}, kind="building")
        assert not form.is_valid()
        assert form.errors["name"] == [str(FORMULA_MESSAGE)]


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_grid_post_and_colour_forms_refuse_hostile_text(org, login, client_en, typed, named):
    client = login(org.users.staff)
    post = client.post(
        reverse("grid:grid-post-create", kwargs={"pk": org.grid1.pk}), {"post_type": "B", "title": typed}
    )
    colour = client.post(reverse("grid:grid-colour", kwargs={"pk": org.grid1.pk}), {"colour": "red", "reason": typed})
    assert named in _form_errors(post, "title")[0]
    assert named in _form_errors(colour, "reason")[0]
    org.grid1.refresh_from_db()
    assert org.grid1.colour == "green"


GOOD_PASSWORD = "Lianxi-2026-beiyuan"


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_admin_user_create_form_refuses_hostile_text(org, login, client_en, typed, named):
    data = {"username": typed, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"}
    response = login(org.users.admin).post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert named in response.context["adminform"].form.errors["username"][0]


@pytest.mark.parametrize("typed", ["+8613812345678", "-x", "@x"])
def test_the_admin_user_create_form_refuses_a_username_that_starts_as_a_formula(org, login, client_en, typed):
    data = {"username": typed, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"}
    response = login(org.users.admin).post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert _formula_message() in response.context["adminform"].form.errors["username"]
    assert not User.objects.filter(username=typed).exists()


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_admin_user_change_form_refuses_hostile_text_in_the_full_name(org, login, client_en, typed, named):
    cadre = org.users.cadre1
    data = {"username": cadre.username, "full_name": typed, "phone": "", "email": "", "is_active": "on"}
    data.update({"grants-TOTAL_FORMS": 0, "grants-INITIAL_FORMS": 0, "grants-2-TOTAL_FORMS": 0})
    data.update({"grants-2-INITIAL_FORMS": 0})
    response = login(org.users.admin).post(reverse("admin:accounts_user_change", args=[cadre.pk]), data)
    assert response.status_code == 200
    assert named in response.context["adminform"].form.errors["full_name"][0]


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_api_user_create_refuses_hostile_text(org, api_en, typed, named):
    payload = {"username": "newcadre", "password": GOOD_PASSWORD, "full_name": typed}
    payload["grant"] = {"role": "community_staff", "org_node": org.building1.pk}
    response = api_en(org.users.admin).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 400, response.content
    assert named in response.json()["fields"]["full_name"][0]
    assert not User.objects.filter(username="newcadre").exists()


@pytest.mark.parametrize("typed", FORMULAS)
def test_the_api_user_create_refuses_a_full_name_that_starts_as_a_formula(org, api_en, typed):
    payload = {"username": "newcadre", "password": GOOD_PASSWORD, "full_name": typed, "phone": "+86 138 1234 5678"}
    payload["grant"] = {"role": "community_staff", "org_node": org.building1.pk}
    response = api_en(org.users.admin).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["full_name"] == [_formula_message()]


def test_the_api_user_create_accepts_a_phone_with_a_plus(org, api_en):
    payload = {"username": "newcadre", "password": GOOD_PASSWORD, "full_name": "王芳", "phone": "+86 138 1234 5678"}
    payload["grant"] = {"role": "community_staff", "org_node": org.building1.pk}
    response = api_en(org.users.admin).post("/api/v1/users/", payload, format="json")
    assert response.status_code == 201, response.content
    assert User.objects.get(username="newcadre").phone == "13812345678"


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_admin_forms_of_reference_data_refuse_hostile_text(org, login, client_en, typed, named):
    client = login(org.users.admin)
    tag = client.post(reverse("admin:grid_tag_add"), {"code": "newtag", "name": typed, "sort_order": 0})
    team = client.post(
        reverse("admin:liaison_workteam_add"), {"bureau_name": typed, "name": "工作队", "community": org.community.pk}
    )
    for response, field in [(tag, "name"), (team, "bureau_name")]:
        assert response.status_code == 200
        assert named in response.context["adminform"].form.errors[field][0]


# --- the services refuse what they are handed, before normalising ------------------------------


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_services_refuse_hostile_text_before_normalising_it(org, typed, named):
    writes = [
        ("head_name", lambda: household_create(actor=None, building=org.building1, room="301", head_name=typed)),
        ("care_reason", lambda: household_update(actor=None, household=org.household1, care_reason=typed)),
        ("name", lambda: org_node_create(actor=None, name=typed, parent=org.compound1)),
        ("code", lambda: grid_create(actor=None, community=org.community, name="九号网格", code=typed)),
        ("title", lambda: grid_post_create(actor=None, grid=org.grid1, post_type="B", title=typed)),
        ("bureau_name", lambda: work_team_create(actor=None, bureau_name=typed, name="队", community=org.community)),
    ]
    for field, write in writes:
        with english(), pytest.raises(ZhubaoError) as raised:
            write()
        assert named in raised.value.fields[field][0], field
    assert not Household.objects.filter(room="301").exists()
    assert not GridPost.objects.filter(grid=org.grid1, post_type="B").exists()


@pytest.mark.parametrize(("typed", "named"), HOSTILE)
def test_the_people_services_refuse_hostile_text(org, typed, named):
    from accounts.services import department_create, user_create

    with pytest.raises(ZhubaoError) as raised:
        user_create(actor=None, username="newcadre", password=None, full_name=typed)
    assert named in raised.value.fields["full_name"][0]
    with pytest.raises(ZhubaoError) as raised:
        department_create(actor=None, name=typed, code="fangchan")
    assert named in raised.value.fields["name"][0]
    assert not User.objects.filter(username="newcadre").exists()
    assert not Department.objects.filter(code="fangchan").exists()


@pytest.mark.parametrize("typed", FORMULAS)
def test_the_services_refuse_a_name_that_starts_as_a_formula(org, typed):
    with pytest.raises(ZhubaoError) as raised:
        household_create(actor=None, building=org.building1, room="301", head_name=typed)
    assert set(raised.value.fields) == {"head_name"}
    with pytest.raises(ZhubaoError):
        org_node_create(actor=None, name=typed, parent=org.compound1)
