"""factory-boy factories. Tree nodes and households are built through the services,
so tests exercise the same writes as the portal."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import Department, User
from accounts.services import role_grant_add
from grid.models import Household, OrgNode, id_number_check_character
from grid.services import grid_create, grid_post_create, household_create, org_node_create

TEST_PASSWORD = "zhubao-test-pass"


def valid_id_number(n: int) -> str:
    """A well-formed resident ID number (GB 11643 check digit) that differs for each n."""
    body = f"110105198{n % 10}0101{n % 1000:03d}"[:17].ljust(17, "0")
    return body + id_number_check_character(body)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="zh_CN")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"职能部门{n}")
    code = factory.Sequence(lambda n: f"dept-{n}")


class _OrgNodeFactory(factory.Factory):
    class Meta:
        model = OrgNode

    @classmethod
    def _create(cls, model_class, name, parent=None, place_name="", **kwargs):
        # Without a place name a compound or building is named after its place (阳光小区党支部 → 阳光小区).
        return org_node_create(actor=None, name=name, parent=parent, place_name=place_name)


class CommunityFactory(_OrgNodeFactory):
    name = factory.Sequence(lambda n: f"测试社区{n}")
    parent = None


class CompoundFactory(_OrgNodeFactory):
    name = factory.Sequence(lambda n: f"小区{n}党支部")
    parent = factory.SubFactory(CommunityFactory)


class BuildingFactory(_OrgNodeFactory):
    name = factory.Sequence(lambda n: f"{n}号楼党小组")
    parent = factory.SubFactory(CompoundFactory)


class HubFactory(_OrgNodeFactory):
    name = factory.Sequence(lambda n: f"党员中心户{n}")
    parent = factory.SubFactory(BuildingFactory)


class HouseholdFactory(factory.Factory):
    class Meta:
        model = Household

    building = factory.SubFactory(BuildingFactory)
    unit = "1"
    room = factory.Sequence(lambda n: f"{100 + n}")
    head_name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"138{n % 100000000:08d}")
    id_number = factory.Sequence(valid_id_number)
    resident_count = 3

    @classmethod
    def _create(cls, model_class, building, room, head_name, **kwargs):
        return household_create(actor=None, building=building, room=room, head_name=head_name, **kwargs)


def grant(user, role, *, node=None, grid=None, department=None):
    """Give ``user`` a role at a place, through the service."""
    return role_grant_add(actor=None, user=user, role=role, org_node=node, grid=grid, department=department)


def make_grid(*, community, code, buildings=(), name=None, posts=()):
    grid = grid_create(actor=None, community=community, name=name or f"第{code}网格", code=code, buildings=buildings)
    for post_type, title, holder in posts:
        grid_post_create(actor=None, grid=grid, post_type=post_type, title=title, holder=holder)
    return grid
