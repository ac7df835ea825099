"""Importing a workbook: read, check every row, and write all of it or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role, RoleGrant
from core.errors import ZhubaoError
from core.models import AuditEvent
from grid.importing import import_job_create, workbook_import, workbook_validate
from grid.importing.layout import CLEAR_MARKER, SHEET_GRIDS, SHEET_HOUSEHOLDS, SHEET_POSTS, SHEET_TREE
from grid.models import Grid, GridColour, GridPost, Household, ImportJob, OrgNode, OrgNodeKind, Tag
from grid.services import household_update, org_node_create
from tests.factories import valid_id_number
from tests.grid.workbooks import (
    assert_tree_is_sound,
    grid_row,
    household_row,
    post_row,
    row_counts,
    tree_row,
)


def issue_set(outcome_or_issues):
    problems = getattr(outcome_or_issues, "problems", outcome_or_issues)
    return {(issue.sheet, issue.row, issue.column, issue.code) for issue in problems}


# --- a valid workbook ---------------------------------------------------------------------------


def test_valid_workbook_creates_tree_households_grids_and_posts_with_stamped_ids(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [
                tree_row(compound="阳光小区党支部", building="3号楼党小组", hub="周红梅中心户"),
                tree_row(compound="新华小区党支部", building="8号楼党小组"),
            ],
            SHEET_HOUSEHOLDS: [
                household_row(
                    building="3号楼党小组",
                    unit="2",
                    room="202",
                    head_name="周红梅",
                    tags="独居老人、低保户",
                    is_care="是",
                    care_reason="独居，腿脚不便",
                    hub="周红梅中心户",
                ),
                household_row(compound="新华小区党支部", building="8号楼党小组", room="801", phone="0471-5123456"),
            ],
            SHEET_GRIDS: [
                grid_row(
                    code="03",
                    colour="红",
                    colour_reason="电线老化",
                    buildings="阳光小区党支部/3号楼党小组、新华小区党支部/8号楼党小组",
                )
            ],
            SHEET_POSTS: [post_row(code="03", holder="cadre1"), post_row(code="01", post_type="B", title="楼栋长")],
        }
    )
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()

    building3 = OrgNode.objects.get(name="3号楼党小组", parent=org.compound1)
    hub = OrgNode.objects.get(name="周红梅中心户", parent=building3)
    compound_new = OrgNode.objects.get(name="新华小区党支部", parent=org.community)
    building8 = OrgNode.objects.get(name="8号楼党小组", parent=compound_new)
    assert (building3.kind, hub.kind, compound_new.kind) == (
        OrgNodeKind.BUILDING,
        OrgNodeKind.HUB,
        OrgNodeKind.COMPOUND,
    )
    assert_tree_is_sound(org.community.tree_id)
    assert OrgNode.objects.get(pk=org.community.pk).get_descendants().filter(pk=hub.pk).exists()

    zhou = Household.objects.get(head_name="周红梅")
    assert (zhou.community_id, zhou.compound_id, zhou.building_id, zhou.hub_id) == (
        org.community.pk,
        org.compound1.pk,
        building3.pk,
        hub.pk,
    )
    assert (zhou.unit, zhou.room, zhou.is_care, zhou.care_reason) == ("2", "202", True, "独居，腿脚不便")
    assert set(zhou.tags.values_list("name", flat=True)) == {"独居老人", "低保户"}
    other = Household.objects.get(building=building8)
    assert (other.community_id, other.compound_id, other.phone) == (org.community.pk, compound_new.pk, "0471-5123456")

    grid = Grid.objects.get(community=org.community, code="03")
    assert (grid.colour, grid.colour_reason) == (GridColour.RED, "电线老化")
    assert set(grid.buildings.values_list("pk", flat=True)) == {building3.pk, building8.pk}
    post = GridPost.objects.get(grid=grid)
    assert post.holder == org.users.cadre1 and post.post_type == "A"
    assert RoleGrant.objects.active().filter(user=org.users.cadre1, role=Role.GRID_WORKER, grid=grid).exists()
    assert GridPost.objects.get(grid=org.grid1, title="楼栋长").holder is None

    sheets = {entry["sheet"]: entry for entry in outcome.summary["sheets"]}
    assert sheets[SHEET_TREE]["created"] == 4
    assert sheets[SHEET_HOUSEHOLDS]["created"] == 2
    assert (sheets[SHEET_GRIDS]["created"], sheets[SHEET_POSTS]["created"]) == (1, 2)


def test_the_tree_stays_usable_by_the_services_after_an_import(org, workbook):
    path = workbook(
        {SHEET_TREE: [tree_row(compound="阳光小区党支部", building=f"{n}0号楼党小组") for n in range(1, 6)]}
    )
    assert workbook_import(actor=org.users.staff, source=path).ok
    building = org_node_create(actor=None, name="99号楼党小组", parent=OrgNode.objects.get(pk=org.compound1.pk))
    assert_tree_is_sound(org.community.tree_id)
    assert building.get_ancestors().filter(pk=org.community.pk).exists()
    names = list(OrgNode.objects.get(pk=org.compound1.pk).get_children().values_list("name", flat=True))
    assert names == [
        "1号楼党小组",
        "10号楼党小组",
        "20号楼党小组",
        "30号楼党小组",
        "40号楼党小组",
        "50号楼党小组",
        "99号楼党小组",
    ]


def test_an_admin_may_create_a_new_community_as_its_own_tree(org, workbook):
    path = workbook({SHEET_TREE: [tree_row(community="东城社区", compound="幸福小区党支部", building="1号楼党小组")]})
    outcome = workbook_import(actor=org.users.admin, source=path)
    assert outcome.ok, outcome.error_dicts()
    community = OrgNode.objects.get(name="东城社区", parent=None)
    assert community.tree_id not in {org.community.tree_id, org.other_community.tree_id}
    assert community.get_descendant_count() == 2
    assert_tree_is_sound(community.tree_id)
    assert_tree_is_sound(org.community.tree_id)


# --- re-import ----------------------------------------------------------------------------------


def test_reimport_updates_households_instead_of_duplicating_them(org, workbook):
    first = workbook({SHEET_HOUSEHOLDS: [household_row(room="301", phone="13900001111", tags="独居老人")]})
    assert workbook_import(actor=org.users.staff, source=first).ok
    before = row_counts()
    second = workbook(
        {SHEET_HOUSEHOLDS: [household_row(room="301", phone="13900002222", tags="低保户", resident_count=4)]}
    )
    outcome = workbook_import(actor=org.users.staff, source=second)
    assert outcome.ok
    assert row_counts() == before
    household = Household.objects.get(building=org.building1, room="301")
    assert (household.phone, household.resident_count) == ("13900002222", 4)
    assert set(household.tags.values_list("name", flat=True)) == {"低保户"}
    summary = {entry["sheet"]: entry for entry in outcome.summary["sheets"]}[SHEET_HOUSEHOLDS]
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 1, 0)


def test_an_existing_household_is_matched_by_building_unit_and_room(org, workbook):
    path = workbook({SHEET_HOUSEHOLDS: [household_row(unit="1", room="101", head_name="新户主", hub="")]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    household = Household.objects.get(pk=org.household1.pk)
    assert household.head_name == "新户主"
    assert household.hub_id == org.hub1.pk  # a blank 党员中心户 cell keeps the hub
    assert Household.objects.filter(building=org.building1, room="101").count() == 1
    clear = workbook({SHEET_HOUSEHOLDS: [household_row(unit="1", room="101", head_name="新户主", hub=CLEAR_MARKER)]})
    assert workbook_import(actor=org.users.staff, source=clear).ok
    assert Household.objects.get(pk=org.household1.pk).hub_id is None  # 清空 removes it


def test_a_masked_cell_keeps_the_stored_value_of_an_existing_household(org, workbook):
    stored_phone, stored_id = org.household1.phone, org.household1.id_number
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                household_row(room="101", phone="138****0000", id_number="1101**********1234", hub="张建国中心户")
            ]
        }
    )
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    household = Household.objects.get(pk=org.household1.pk)
    assert (household.phone, household.id_number) == (stored_phone, stored_id)


def test_a_missing_optional_column_leaves_the_stored_value_alone(org, workbook):
    household_update(
        actor=None,
        household=org.household1,
        tags=Tag.objects.filter(name="独居老人"),
        resident_count=5,
        is_care=True,
        care_reason="独居",
    )
    headers = {SHEET_HOUSEHOLDS: ["社区", "小区党支部", "楼栋党小组", "单元", "门牌号", "户主姓名", "联系电话"]}
    path = workbook(
        {SHEET_HOUSEHOLDS: [["北苑社区", "阳光小区党支部", "1号楼党小组", "1", "101", "张建国", "13911112222"]]},
        headers,
    )
    assert workbook_import(actor=org.users.staff, source=path).ok
    household = Household.objects.get(pk=org.household1.pk)
    assert household.phone == "13911112222"
    assert (household.resident_count, household.is_care, household.care_reason) == (5, True, "独居")
    assert household.hub_id == org.hub1.pk
    assert list(household.tags.values_list("name", flat=True)) == ["独居老人"]


def test_a_grid_post_holder_changes_and_the_grants_follow(org, workbook):
    first = workbook({SHEET_POSTS: [post_row(code="02", title="专职网格员", holder="cadre2")]})
    assert workbook_import(actor=org.users.staff, source=first).ok
    assert RoleGrant.objects.active().filter(user=org.users.cadre2, role=Role.GRID_WORKER, grid=org.grid2).exists()
    second = workbook({SHEET_POSTS: [post_row(code="02", title="专职网格员", holder=CLEAR_MARKER)]})
    outcome = workbook_import(actor=org.users.staff, source=second)
    assert outcome.ok
    assert GridPost.objects.get(grid=org.grid2).holder is None
    assert not RoleGrant.objects.active().filter(user=org.users.cadre2, role=Role.GRID_WORKER, grid=org.grid2).exists()


def test_a_building_listed_for_another_grid_moves_there(org, workbook):
    path = workbook(
        {
            SHEET_GRIDS: [
                grid_row(code="02", name="第02网格", buildings="阳光小区党支部/1号楼党小组、和平小区党支部/2号楼党小组")
            ]
        }
    )
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert set(org.grid2.buildings.values_list("pk", flat=True)) == {org.building1.pk, org.building2.pk}
    assert not org.grid1.buildings.exists()


# --- reading ------------------------------------------------------------------------------------


def test_a_title_row_column_order_and_numeric_cells_are_understood(org, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_HOUSEHOLDS
    sheet.append(["北苑社区居民户台账（2026年）"])
    sheet.append(["门牌号", "户主姓名*", "社区", "小区党支部", "楼栋党小组", "单元", "联系电话", "备注"])
    sheet.append([302, "钱进", "北苑社区", "阳光小区党支部", "1号楼党小组", 2, 13900003333, "新搬来"])
    sheet.append([])
    sheet.append([303, "孙华", "北苑社区", "阳光小区党支部", "1号楼党小组", 2.0, None, None])
    book.save(tmp_path / "ledger.xlsx")
    outcome = workbook_import(actor=org.users.staff, source=tmp_path / "ledger.xlsx")
    assert outcome.ok, outcome.error_dicts()
    qian = Household.objects.get(head_name="钱进")
    assert (qian.unit, qian.room, qian.phone) == ("2", "302", "13900003333")
    assert Household.objects.get(head_name="孙华").unit == "2"


def test_a_file_that_is_not_a_workbook_is_reported(org, tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip file")
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert not outcome.ok
    assert issue_set(outcome) == {("", None, "", "not_a_workbook")}


def test_a_workbook_without_known_sheets_or_headers_is_reported(org, workbook):
    assert issue_set(workbook_import(actor=org.users.staff, source=workbook({"Sheet1": [["a", "b"]]}))) == {
        ("", None, "", "no_data_sheets")
    }
    path = workbook({SHEET_HOUSEHOLDS: [["北苑社区"]]}, headers={SHEET_HOUSEHOLDS: ["社区", "备注"]})
    assert issue_set(workbook_import(actor=org.users.staff, source=path)) == {(SHEET_HOUSEHOLDS, 1, "", "no_header")}


def test_a_sheet_missing_a_required_column_says_which(org, workbook):
    headers = {SHEET_HOUSEHOLDS: ["社区", "小区党支部", "楼栋党小组", "门牌号", "户主姓名"]}
    path = workbook({SHEET_HOUSEHOLDS: [["北苑社区", "阳光小区党支部", "1号楼党小组", "101", "张建国"]]}, headers)
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert issue_set(outcome) == {(SHEET_HOUSEHOLDS, 1, "", "missing_columns")}
    assert outcome.problems[0].params["columns"] == "单元"


# --- every kind of bad cell, and nothing written ------------------------------------------------


def test_every_bad_cell_is_reported_with_sheet_row_and_column_and_nothing_is_written(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [
                tree_row(compound="", building="9号楼党小组"),
                tree_row(community="", compound="阳光小区党支部"),
                tree_row(community="南湖社区", compound="南湖小区党支部", building="10号楼党小组"),
                tree_row(compound="阳光小区党支部", building="楼" * 101),
                tree_row(compound="阳光小区党支部", building="7号楼党小组"),  # valid
            ],
            SHEET_HOUSEHOLDS: [
                household_row(room="401", head_name=""),
                household_row(room="402", phone="1234"),
                household_row(room="403", id_number="110105198001010011"),
                household_row(room="404", id_number=1.10105198001010e17),
                household_row(room="405", resident_count="三"),
                household_row(room="406", is_care="可能"),
                household_row(room="407", is_care="是", care_reason=""),
                household_row(room="408", tags="独居老人、外星人"),
                household_row(room="409", building="99号楼党小组"),
                household_row(room="410", hub="不存在中心户"),
                household_row(room="411", phone="139****1111"),
                household_row(room="412"),
                household_row(room="412"),
                household_row(community="南湖社区", compound="南湖小区党支部", building="9号楼党小组", room="413"),
                household_row(building="7号楼党小组", room="414"),  # valid: the building is new in this file
            ],
            SHEET_GRIDS: [
                grid_row(code="11", colour="紫"),
                grid_row(code="12", colour="红", colour_reason=""),
                grid_row(code="13", buildings="1号楼党小组"),
                grid_row(code="14", buildings="阳光小区党支部/99号楼党小组"),
                grid_row(code="15"),
                grid_row(code="15"),
                grid_row(code="16", buildings="阳光小区党支部/7号楼党小组"),
                grid_row(code="17", buildings="阳光小区党支部/7号楼党小组"),
                grid_row(community="南湖社区", code="18"),
            ],
            SHEET_POSTS: [
                post_row(post_type="D"),
                post_row(code="99"),
                post_row(holder="nosuchuser"),
                post_row(title=""),
            ],
        }
    )
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert not outcome.ok
    assert issue_set(outcome) == {
        (SHEET_TREE, 2, "小区党支部", "level_gap"),
        (SHEET_TREE, 3, "社区", "required"),
        (SHEET_TREE, 4, "社区", "out_of_scope"),
        (SHEET_TREE, 5, "楼栋党小组", "too_long"),
        (SHEET_HOUSEHOLDS, 2, "户主姓名", "required"),
        (SHEET_HOUSEHOLDS, 3, "联系电话", "phone_invalid"),
        (SHEET_HOUSEHOLDS, 4, "身份证号", "id_number_invalid"),
        (SHEET_HOUSEHOLDS, 5, "身份证号", "id_number_as_number"),
        (SHEET_HOUSEHOLDS, 6, "居住人数", "whole_number"),
        (SHEET_HOUSEHOLDS, 7, "需关爱对象", "yes_no"),
        (SHEET_HOUSEHOLDS, 8, "关爱原因", "care_reason_required"),
        (SHEET_HOUSEHOLDS, 9, "标签", "unknown_tags"),
        (SHEET_HOUSEHOLDS, 10, "楼栋党小组", "unknown_building"),
        (SHEET_HOUSEHOLDS, 11, "党员中心户", "unknown_hub"),
        (SHEET_HOUSEHOLDS, 12, "联系电话", "masked_for_new"),
        (SHEET_HOUSEHOLDS, 14, "门牌号", "duplicate_household"),
        (SHEET_HOUSEHOLDS, 15, "社区", "out_of_scope"),
        (SHEET_GRIDS, 2, "颜色", "colour"),
        (SHEET_GRIDS, 3, "颜色原因", "colour_reason_required"),
        (SHEET_GRIDS, 4, "包含楼栋", "building_format"),
        (SHEET_GRIDS, 5, "包含楼栋", "unknown_building"),
        (SHEET_GRIDS, 7, "网格编码", "duplicate_grid"),
        (SHEET_GRIDS, 9, "包含楼栋", "building_in_two_grids"),
        (SHEET_GRIDS, 10, "社区", "out_of_scope"),
        (SHEET_POSTS, 2, "岗位类型", "post_type"),
        (SHEET_POSTS, 3, "网格编码", "unknown_grid"),
        (SHEET_POSTS, 4, "在岗人员用户名", "unknown_user"),
        (SHEET_POSTS, 5, "岗位名称", "required"),
    }
    assert row_counts() == before
    assert not OrgNode.objects.filter(name="7号楼党小组").exists()
    duplicate = next(issue for issue in outcome.problems if issue.code == "duplicate_household")
    assert duplicate.params["other_row"] == 13
    assert all(issue.message() for issue in outcome.problems)


def test_one_bad_cell_in_the_last_sheet_keeps_every_other_sheet_from_being_written(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building="3号楼党小组")],
            SHEET_HOUSEHOLDS: [household_row(room="501"), household_row(room="502")],
            SHEET_GRIDS: [grid_row(code="03", buildings="阳光小区党支部/3号楼党小组")],
            SHEET_POSTS: [post_row(code="03", holder="nosuchuser")],
        }
    )
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert issue_set(outcome) == {(SHEET_POSTS, 2, "在岗人员用户名", "unknown_user")}
    assert row_counts() == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORTED).exists()


# --- scope --------------------------------------------------------------------------------------


def test_a_community_outside_the_users_scope_is_refused(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building="3号楼党小组")],
            SHEET_HOUSEHOLDS: [household_row(room="101", head_name="改名")],
            SHEET_GRIDS: [grid_row(code="01", name="改名")],
        }
    )
    before = row_counts()
    outcome = workbook_import(actor=org.users.other_staff, source=path)
    assert {(issue.sheet, issue.code) for issue in outcome.problems} == {
        (SHEET_TREE, "out_of_scope"),
        (SHEET_HOUSEHOLDS, "out_of_scope"),
        (SHEET_GRIDS, "out_of_scope"),
    }
    assert row_counts() == before
    assert Household.objects.get(pk=org.household1.pk).head_name != "改名"


def test_out_of_scope_does_not_reveal_which_nodes_exist(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [
                tree_row(community="南湖社区", compound="南湖小区党支部", building="9号楼党小组"),
                tree_row(community="南湖社区", compound="不存在小区党支部", building="9号楼党小组"),
                tree_row(community="不存在社区", compound="南湖小区党支部", building="9号楼党小组"),
            ]
        }
    )
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert [(issue.column, issue.code) for issue in outcome.problems] == [("社区", "out_of_scope")] * 3


def test_only_a_system_admin_may_create_a_community(org, workbook):
    path = workbook({SHEET_TREE: [tree_row(community="东城社区", compound="幸福小区党支部")]})
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert issue_set(outcome) == {(SHEET_TREE, 2, "社区", "out_of_scope")}
    assert not OrgNode.objects.filter(name="东城社区").exists()


def test_a_cadre_without_the_import_action_can_write_nothing(org, workbook):
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room="101", head_name="改名")]})
    outcome = workbook_import(actor=org.users.cadre1, source=path)
    assert issue_set(outcome) == {(SHEET_HOUSEHOLDS, 2, "社区", "out_of_scope")}


def test_validation_alone_writes_nothing(org, workbook):
    path = workbook({SHEET_TREE: [tree_row(compound="阳光小区党支部", building="3号楼党小组")]})
    before = row_counts()
    parsed, plan, problems = workbook_validate(actor=org.users.staff, source=path)
    assert not problems and plan.new_paths == [("北苑社区", "阳光小区党支部", "3号楼党小组")]
    assert row_counts() == before


# --- jobs ---------------------------------------------------------------------------------------


def _upload(path, name="台账.xlsx"):
    return SimpleUploadedFile(name, path.read_bytes(), content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("name", "content", "message_part"),
    [
        ("台账.xls", b"\xd0\xcf\x11\xe0 old excel", ".xlsx"),
        ("台账.csv", b"a,b\n", ".xlsx"),
        ("台账.xlsx", b"this is text", ".xlsx"),
    ],
)
def test_a_file_that_is_not_xlsx_is_refused_before_a_job_exists(org, name, content, message_part):
    with pytest.raises(ZhubaoError) as error:
        import_job_create(actor=org.users.staff, uploaded_file=SimpleUploadedFile(name, content))
    assert message_part in error.value.message and "file" in error.value.fields
    assert not ImportJob.objects.exists()


def test_a_file_over_20_mb_is_refused(org):
    big = SimpleUploadedFile("大.xlsx", b"PK\x03\x04" + b"0" * (20 * 1024 * 1024))
    with pytest.raises(ZhubaoError) as error:
        import_job_create(actor=org.users.staff, uploaded_file=big)
    assert "20" in error.value.message
    assert not ImportJob.objects.exists()


def test_a_user_without_the_import_action_cannot_create_a_job(org, workbook):
    path = workbook({SHEET_HOUSEHOLDS: [household_row()]})
    with pytest.raises(ZhubaoError):
        import_job_create(actor=org.users.cadre1, uploaded_file=_upload(path))


def test_a_new_household_needs_a_valid_id_number_and_gets_it(org, workbook):
    number = valid_id_number(4242)
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room="901", id_number=number.lower())]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert Household.objects.get(building=org.building1, room="901").id_number == number.upper()


def test_the_check_stops_after_the_maximum_number_of_errors(org, workbook, monkeypatch):
    monkeypatch.setattr("grid.importing.problems.MAX_PROBLEMS", 3)
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room=f"1{n:02d}", phone="1") for n in range(10)]})
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert [issue.code for issue in outcome.problems] == ["phone_invalid"] * 3 + ["too_many_errors"]
    assert row_counts() == before


# --- post holders come from the people the user may see -------------------------------------------------


def test_staff_cannot_appoint_another_communitys_staff_and_learn_nothing_about_them(org, workbook):
    appoint_other = workbook({SHEET_POSTS: [post_row(code="02", holder="otherstaff")]})
    appoint_nobody = workbook({SHEET_POSTS: [post_row(code="02", holder="nosuchuser")]})
    before = row_counts()
    other = workbook_import(actor=org.users.staff, source=appoint_other)
    missing = workbook_import(actor=org.users.staff, source=appoint_nobody)
    assert issue_set(other) == issue_set(missing) == {(SHEET_POSTS, 2, "在岗人员用户名", "unknown_user")}
    other_message = other.problems[0].message().replace("otherstaff", "?")
    assert other_message == missing.problems[0].message().replace("nosuchuser", "?")
    assert row_counts() == before
    assert not RoleGrant.objects.filter(user=org.users.other_staff, role=Role.GRID_WORKER).exists()


def test_staff_may_appoint_someone_of_their_own_community(org, workbook):
    path = workbook({SHEET_POSTS: [post_row(code="02", holder="cadre1")]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert GridPost.objects.get(grid=org.grid2).holder == org.users.cadre1


def test_a_global_admin_may_appoint_anyone_active(org, workbook):
    path = workbook({SHEET_POSTS: [post_row(code="02", holder="otherstaff")]})
    assert workbook_import(actor=org.users.admin, source=path).ok
    assert GridPost.objects.get(grid=org.grid2).holder == org.users.other_staff


# --- masked care reasons ---------------------------------------------------------------------------------


def test_a_masked_care_reason_keeps_the_stored_one_and_is_refused_for_a_new_household(org, workbook):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居，腿脚不便")
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                household_row(room="101", hub="张建国中心户", is_care="是", care_reason="******"),
            ]
        }
    )
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert Household.objects.get(pk=org.household1.pk).care_reason == "独居，腿脚不便"
    new = workbook({SHEET_HOUSEHOLDS: [household_row(room="909", is_care="是", care_reason="******")]})
    outcome = workbook_import(actor=org.users.staff, source=new)
    assert issue_set(outcome) == {(SHEET_HOUSEHOLDS, 2, "关爱原因", "masked_for_new")}


# --- retries used up -------------------------------------------------------------------------------------
