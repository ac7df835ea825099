"""Households: one set of field rules through every face, all errors in one round, the audited
reveal, and stamping without the tree lock (issue 5, defects 4 and 10, "writes belong in services")."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from core.errors import ZhubaoError
from core.models import AuditEvent
from grid.forms import HouseholdForm
from grid.importing import workbook_import
from grid.importing.layout import SHEET_HOUSEHOLDS
from grid.models import HOUSEHOLD_FIELDS, Household, OrgNode, Tag
from grid.rules import MAX_LENGTH
from grid.serializers import HouseholdWriteSerializer
from grid.services import household_create, household_personal_data_reveal, org_node_move, org_tree_lock
from tests.factories import BuildingFactory, CommunityFactory, CompoundFactory, valid_id_number
from tests.grid.workbooks import household_row, write_workbook


def _wrong_check(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


ID_WITH_X = "11010519490100000X"  # a valid resident ID number whose check character is X
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# (field, what a person types, what is stored; None: refused). The same table goes through the
# portal form, the API and the Excel import, which must agree on every line.
CASES = [
    ("phone", "138-1234-5678", "13812345678"),
    ("phone", "138 1234 5678", "13812345678"),
    ("phone", "+86 13812345678", "13812345678"),
    ("phone", "0086-138-1234-5678", "13812345678"),
    ("phone", "13812345678".translate(FULL_WIDTH), "13812345678"),
    ("phone", "13812345678".translate(ARABIC_INDIC), "13812345678"),
    ("phone", "0471 1234567", "0471-1234567"),
    ("id_number", "110105 19490100000x", ID_WITH_X),
    ("id_number", valid_id_number(5).translate(FULL_WIDTH), valid_id_number(5)),
    ("head_name", "张\u200b建国\u3000 ", "张建国"),
    ("unit", "2单元", "2"),
    ("phone", "1381234567", None),  # ten digits
    ("phone", "138１２３４5678x", None),
    ("id_number", _wrong_check(valid_id_number(5)), None),
    ("id_number", "1101051949010000".translate(ARABIC_INDIC) + "0x", ID_WITH_X),
]


@pytest.fixture
def api():
    def _client(user):
        client = APIClient()
        client.force_login(user)
        return client

    return _client


def _row_values(field, typed):
    values = {field: typed}
    if field == "care_reason":
        values["is_care"] = "是"
    return values


def _through_form(org, login, field, typed, room):
    data = {
        "building": org.building1.pk,
        "unit": "3",
        "room": room,
        "head_name": "孙立新",
        "phone": "13900001111",
        "id_number": "",
        "resident_count": 2,
        field: typed,
    }
    if field == "care_reason":
        data["is_care"] = "on"
    response = login(org.users.staff).post(reverse("grid:household-create"), data)
    errors = response.context["form"].errors if response.status_code == 200 else {}
    return errors.get(field)


def _through_api(org, api, field, typed, room):
    payload = {"building": org.building1.pk, "unit": "3", "room": room, "head_name": "孙立新", field: typed}
    if field == "care_reason":
        payload["is_care"] = True
    response = api(org.users.staff).post("/api/v1/households/", payload, format="json")
    return None if response.status_code == 201 else response.json()["fields"].get(field)


def _through_import(org, tmp_path, field, typed, room):
    values = {"unit": "3", "room": room, **_row_values(field, typed)}
    path = write_workbook(tmp_path / f"{room}.xlsx", {SHEET_HOUSEHOLDS: [household_row(**values)]})
    outcome = workbook_import(actor=org.users.staff, source=path)
    return None if outcome.ok else [problem.code for problem in outcome.problems]


def _stored(org, field, room):
    household = Household.objects.filter(building=org.building1, room=room, is_active=True).first()
    return None if household is None else getattr(household, field)


@pytest.mark.parametrize(("field", "typed", "stored"), CASES)
def test_the_form_the_api_and_the_import_normalise_and_refuse_the_same_values(
    org, login, api, tmp_path, field, typed, stored
):
    faces = {
        "form": (_through_form, (org, login)),
        "api": (_through_api, (org, api)),
        "import": (_through_import, (org, tmp_path)),
    }
    for number, (face, (through, args)) in enumerate(faces.items()):
        room = f"60{number}"
        errors = through(*args, field, typed, room)
        if stored is None:
            assert errors, f"{face} accepted {typed!r}"
            assert _stored(org, field, room) is None, face
        else:
            assert not errors, f"{face}: {errors}"
            assert _stored(org, field, room) == stored, face


def test_a_stored_phone_keeps_its_last_four_digits_for_search(org):
    household = household_create(
        actor=None, building=org.building1, room="701", head_name="周红", phone="+86 138-0000-4321"
    )
    assert (household.phone, household.phone_tail) == ("13800004321", "4321")


def test_a_megabyte_care_reason_is_refused_with_a_chinese_message_by_the_form_and_the_api(org, login, api):
    huge = "独" * 1_000_000
    errors = _through_form(org, login, "care_reason", huge, "801")
    assert errors and "请不要超过 500 个字符" in errors[0]
    response = api(org.users.staff).post(
        "/api/v1/households/",
        {"building": org.building1.pk, "room": "802", "head_name": "孙立新", "is_care": True, "care_reason": huge},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "请不要超过 500 个字符" in response.json()["fields"]["care_reason"][0]
    assert not Household.objects.filter(room__in=["801", "802"]).exists()


def test_the_import_refuses_a_care_reason_longer_than_the_rule(org, tmp_path):
    long_reason = "独" * (MAX_LENGTH["care_reason"] + 1)  # an Excel cell holds at most 32,767 characters
    assert _through_import(org, tmp_path, "care_reason", long_reason, "803") == ["too_long"]


def test_a_care_reason_keeps_its_chinese_punctuation_and_line_breaks(org):
    household = household_create(
        actor=None,
        building=org.building1,
        room="804",
        head_name="王芳",
        is_care=True,
        care_reason="独居，腿脚不便。\r\n每周联系",
    )
    assert household.care_reason == "独居，腿脚不便。\n每周联系"


def test_the_household_form_shows_every_error_in_one_round(org, login):
    response = login(org.users.staff).post(
        reverse("grid:household-create"),
        {
            "building": org.building2.pk,
            "hub": org.hub1.pk,  # a hub of building 1
            "unit": "1",
            "room": "205",
            "head_name": "",
            "phone": "12345",
            "id_number": _wrong_check(valid_id_number(9)),
            "resident_count": 0,
            "is_care": "on",
            "care_reason": "",
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {
        "hub",
        "head_name",
        "phone",
        "id_number",
        "resident_count",
        "care_reason",
    }


def test_the_form_and_the_api_serializer_take_the_one_household_field_list(org):
    form = HouseholdForm(buildings=OrgNode.objects.none(), hubs=OrgNode.objects.none(), tags=Tag.objects.none())
    assert set(form.fields) == {*HOUSEHOLD_FIELDS, "tags"}
    assert set(HouseholdWriteSerializer().fields) == {*HOUSEHOLD_FIELDS, "tags"}


def test_the_hub_rule_reads_the_same_on_the_form_and_the_api(org, login, api):
    form_errors = (
        login(org.users.staff)
        .post(
            reverse("grid:household-create"),
            {"building": org.building2.pk, "hub": org.hub1.pk, "room": "206", "head_name": "李", "resident_count": 1},
        )
        .context["form"]
        .errors["hub"]
    )
    api_errors = (
        api(org.users.staff)
        .post(
            "/api/v1/households/",
            {"building": org.building2.pk, "hub": org.hub1.pk, "room": "206", "head_name": "李"},
            format="json",
        )
        .json()["fields"]["hub"]
    )
    assert form_errors == api_errors


# --- the audited reveal: one service, four faces --------------------------------------------------


def _reveals():
    return list(
        AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED)
        .order_by("id")
        .values_list("detail__via", flat=True)
    )


def test_every_reveal_of_personal_data_goes_through_the_one_service_and_is_never_cached(org, login, api):
    household = org.household1
    client = login(org.users.staff)
    page = client.post(reverse("grid:household-reveal", args=[household.pk]))
    assert household.phone in page.content.decode() and "no-store" in page["Cache-Control"]
    edit = client.get(reverse("grid:household-edit", args=[household.pk]))
    assert household.id_number in edit.content.decode() and "no-store" in edit["Cache-Control"]
    answer = api(org.users.staff).get(f"/api/v1/households/{household.pk}/personal-data/")
    assert answer.json()["phone"] == household.phone and "no-store" in answer["Cache-Control"]
    admin = login(org.users.admin).get(reverse("admin:grid_household_change", args=[household.pk]) + "?reveal=1")
    assert household.phone in admin.content.decode()
    assert _reveals() == ["page", "edit_form", "api", "admin"]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).first()
    assert event.detail["fields"] == ["phone", "id_number", "care_reason"]


def test_the_reveal_service_refuses_a_household_out_of_the_actors_scope(org):
    with pytest.raises(ZhubaoError) as error:
        household_personal_data_reveal(actor=org.users.other_staff, household=org.household1, via="api")
    assert error.value.status_code == 404
    assert _reveals() == []


# --- stamping without the tree lock (PostgreSQL) ------------------------------------------------------


def _hold(ready, release, work):
    """Run ``work`` in a transaction of this thread's own connection and keep it open until ``release``."""
    try:
        with transaction.atomic():
            work()
            ready.set()
            release.wait(10)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row and advisory locks are PostgreSQL's")
def test_a_household_is_recorded_while_a_tree_writer_holds_its_communitys_lock():
    building = BuildingFactory()
    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(ready, release, lambda: org_tree_lock(tree_id=building.tree_id)))
    holder.start()
    try:
        assert ready.wait(5)
        started = time.monotonic()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = 3000")  # the old tree lock would wait here
            household = household_create(actor=None, building=building, room="101", head_name="张建国")
        assert time.monotonic() - started < 2
    finally:
        release.set()
        holder.join()
    household.refresh_from_db()
    compound = building.parent
    assert (household.compound_id, household.community_id) == (compound.pk, compound.parent_id)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_household_recorded_during_a_move_of_its_building_is_stamped_with_the_new_compound():
    community = CommunityFactory()
    old, new = CompoundFactory(parent=community), CompoundFactory(parent=community)
    building = BuildingFactory(parent=old)
    stale = OrgNode.objects.get(pk=building.pk)  # as a form loaded it before the move
    ready, release = threading.Event(), threading.Event()

    def move():
        org_node_move(actor=None, node=OrgNode.objects.get(pk=building.pk), new_parent=OrgNode.objects.get(pk=new.pk))

    mover = threading.Thread(target=_hold, args=(ready, release, move))
    mover.start()
    try:
        assert ready.wait(5)
        threading.Timer(0.5, release.set).start()  # the move commits while the household waits for it
        household = household_create(actor=None, building=stale, room="101", head_name="张建国")
    finally:
        release.set()
        mover.join()
    household.refresh_from_db()
    assert household.compound_id == new.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_move_that_starts_while_a_household_is_recorded_restamps_it():
    community = CommunityFactory()
    old, new = CompoundFactory(parent=community), CompoundFactory(parent=community)
    building = BuildingFactory(parent=old)
    ready, release = threading.Event(), threading.Event()
    recorder = threading.Thread(
        target=_hold,
        args=(ready, release, lambda: household_create(actor=None, building=building, room="101", head_name="张建国")),
    )
    recorder.start()
    try:
        assert ready.wait(5)
        threading.Timer(0.5, release.set).start()  # the household commits while the move waits for it
        org_node_move(actor=None, node=OrgNode.objects.get(pk=building.pk), new_parent=OrgNode.objects.get(pk=new.pk))
    finally:
        release.set()
        recorder.join()
    household = Household.objects.get(building=building, room="101")
    assert household.compound_id == new.pk


# --- the data migration ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_names_existing_places_and_keeps_existing_phone_tails():
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("grid", "0004_household_search_and_place_names"), ("grid", "0005_place_names_and_phone_tails")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    node, household = old.get_model("grid", "OrgNode"), old.get_model("grid", "Household")
    community = node.objects.create(name="北苑社区", kind="community", lft=1, rght=6, tree_id=1, level=0)
    compound = node.objects.create(
        name="阳光小区党支部", kind="compound", parent=community, lft=2, rght=5, tree_id=1, level=1
    )
    building = node.objects.create(
        name="1号楼党小组", kind="building", parent=compound, lft=3, rght=4, tree_id=1, level=2
    )
    place = {"community": community, "compound": compound, "building": building, "head_name": "王"}
    household.objects.create(room="1", phone="0471-1234567", **place)
    household.objects.create(room="2", phone="13812345678".translate(FULL_WIDTH), **place)  # stored before the fix
    executor = MigrationExecutor(connection)
    executor.migrate([after])
    new = executor.loader.project_state([after]).apps
    assert sorted(new.get_model("grid", "Household").objects.values_list("room", "phone_tail")) == [
        ("1", "4567"),
        ("2", "5678"),
    ]
    places = new.get_model("grid", "OrgNode").objects.exclude(kind="community").values_list("place_name", flat=True)
    assert sorted(places) == ["1号楼", "阳光小区"]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# --- one address, however it is written (issue 6, defect 7) -------------------------------------------


@pytest.mark.parametrize(
    ("unit", "room", "stored"),
    [
        ("01", "6-02", ("1", "602")),
        ("1单元", "２０２室", ("1", "202")),
        ("第2单元", "３０２", ("2", "302")),
        ("１", "6－02室", ("1", "602")),
    ],
)
def test_the_form_the_api_and_the_import_store_and_match_an_address_variant_as_one_flat(
    org, login, api, tmp_path, unit, room, stored
):
    data = {"building": org.building1.pk, "unit": unit, "room": room, "head_name": "孙立新", "resident_count": 1}
    response = login(org.users.staff).post(reverse("grid:household-create"), data)
    assert response.status_code == 302, response.context["form"].errors
    household = Household.objects.get(building=org.building1, head_name="孙立新")
    assert (household.unit, household.room) == stored
    again = api(org.users.staff).post("/api/v1/households/", {**data, "head_name": "钱进"}, format="json")
    assert again.status_code == 400 and "room" in again.json()["fields"]  # the same flat, already lived in
    created = api(org.users.staff).post(
        "/api/v1/households/", {**data, "building": org.building2.pk, "head_name": "周红"}, format="json"
    )
    assert created.status_code == 201
    assert (created.json()["unit"], created.json()["room"]) == stored
    row = household_row(unit=stored[0], room=f"{stored[1]}室", head_name="赵敏")
    outcome = workbook_import(
        actor=org.users.staff, source=write_workbook(tmp_path / "flat.xlsx", {SHEET_HOUSEHOLDS: [row]})
    )
    assert outcome.ok, outcome.error_dicts()
    assert Household.objects.filter(building=org.building1, unit=stored[0], room=stored[1]).get().head_name == "赵敏"
