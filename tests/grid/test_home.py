"""The home page says, for each role the user holds, what it is for and where (issue 5, defect 6)."""

import pytest
from django.urls import reverse

from accounts.models import Role
from grid import selectors
from tests.factories import DepartmentFactory, UserFactory, grant

NO_ROLE = "尚未分配角色"
OLD_NO_ROLE = "尚无任职位置"


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_department_handler_is_told_which_department_they_act_for_and_when_their_queue_arrives(org, client):
    page = home(client, org.users.dept)
    assert NO_ROLE not in page and OLD_NO_ROLE not in page
    assert "职能部门" in page and "城管局" in page and "您代表的部门：" in page
    assert "问题清单" in page  # their queue arrives with the issue list
    assert 'href="/tree/"' not in page and 'href="/households/"' not in page  # menus that would show nothing
    assert "居民户" not in page.split("</nav>", 1)[1].split("data-role")[0]  # no household figures above the role


def test_a_department_handler_acting_for_two_departments_sees_both(org, client):
    grant(org.users.dept, Role.DEPARTMENT_HANDLER, department=DepartmentFactory(name="供暖办", code="heating"))
    page = home(client, org.users.dept)
    assert "城管局" in page and "供暖办" in page


@pytest.mark.parametrize(
    "username, label, purpose, place",
    [
        ("admin", "系统管理员", "组织架构、人员及其角色", "全部社区"),
        ("leader", "局领导", "排名和趋势", "北苑社区"),
        ("staff", "社区工作人员", "导入现有的台账", "北苑社区"),
        ("cadre1", "包联干部", "列出了该网格的网格员", "1号楼党小组"),
        ("gridworker", "网格员", "所在网格的居民户", "第01网格"),
        ("dept", "部门经办人", "时限内办结", "城管局"),
    ],
)
def test_each_role_says_what_it_is_for_and_where(org, client, username, label, purpose, place):
    page = home(client, getattr(org.users, username))
    assert NO_ROLE not in page
    assert label in page and purpose in page and place in page


def test_a_work_group_leader_is_told_they_lead_the_group_of_their_compound(org, client):
    leader = UserFactory(username="groupleader")
    grant(leader, Role.WORK_GROUP_LEADER, node=org.compound1)
    page = home(client, leader)
    assert "工作组" in page and "阳光小区党支部" in page and NO_ROLE not in page


def test_someone_without_any_role_is_told_to_ask_for_one(org, client):
    page = home(client, org.users.nobody)
    assert NO_ROLE in page and "data-role" not in page


def test_home_roles_lists_each_role_once_with_all_its_places_in_role_order(org):
    grant(org.users.cadre1, Role.CADRE, node=org.building2)
    grant(org.users.cadre1, Role.COMMUNITY_STAFF, node=org.community)
    roles = selectors.home_roles(user=org.users.cadre1)
    assert [(role.role, role.places) for role in roles] == [
        (Role.CADRE, [org.building1.name, org.building2.name]),
        (Role.COMMUNITY_STAFF, [org.community.name]),
    ]


def test_home_roles_leaves_out_a_grant_at_a_deactivated_department(org):
    org.department.is_active = False
    org.department.save(update_fields=["is_active"])
    assert selectors.home_roles(user=org.users.dept) == []


def test_the_home_page_of_a_department_handler_runs_no_tree_counts(org, client, django_assert_max_num_queries):
    client.force_login(org.users.dept)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("home")).status_code == 200


def test_roles_in_the_tree_keep_the_tree_households_and_grids_menus(org, client):
    page = home(client, org.users.cadre1)
    assert 'href="/tree/"' in page and 'href="/households/"' in page and 'href="/grids/"' in page
