"""Generate a benchmark city: 1,000,000 households in 500 communities, in minutes.

What it builds (seeded, so two runs build the same city):

- 500 communities, each its own mptt tree (community → compounds → buildings → a hub on every
  fourth building). The FIRST community is Haiwei-sized (5 compounds, 518 buildings, 11,334
  households) and built through the project's own service ``org_node_create``; the LAST one has
  the same shape and sits at the end of every table (highest ids, last rows of the household
  heap). The 498 between share the rest, 1,000 to 3,000 households each.
- The other trees are written with PostgreSQL COPY, their lft/rght/level/tree_id computed here the
  way mptt numbers a tree built child after child (last-child insertion, children in creation
  order). The check afterwards compares the last community with the service-built first one node by
  node, recomputes the nested sets of a sample of trees from the parent links, and checks the
  nested-set rules (one root per tree, level, lft/rght inside the parent) over every bench tree.
- Households by COPY, stamped as ``grid.services.households`` stamps them: community, compound and
  building ids, ``phone_tail`` from the phone (when the model has it), hub only of its own building.
  The column list comes from ``Household._meta.concrete_fields``: a NOT NULL column this script
  does not know how to fill stops it before anything is written. A sample is then checked with
  ``full_clean()`` and the field normalisers, and every row's stamps are checked in SQL.
- ~5 % care households (with a reason), tags on ~20 %, grids of ~22 buildings with an A and a B post
  each (some red or yellow), and three users with the password ``PASSWORD`` (never to be changed
  at login): ``bench-staff-first`` and ``bench-staff-last`` (community staff of the first and the
  last community) and ``bench-city-admin`` (system admin of every community).
- ``VACUUM (ANALYZE)`` of the touched tables at the end, so plans and visibility maps are settled
  before anything is measured (and autovacuum does not start in the middle of a run).

Bench communities carry the code ``bench-0001`` … on their root; ``--reset`` removes them (and
everything hanging under them) first. Nothing of the schema is dropped or created.

Usage:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhubao_bench .venv/bin/python bench/city.py --reset
    DATABASE_URL=... .venv/bin/python bench/city.py --reset --households 20000   # a quick small city
    DATABASE_URL=... .venv/bin/python bench/city.py --reset-only
"""

import argparse
import io
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhubao.settings.dev")
os.environ.setdefault("DEBUG", "false")  # no query log in memory while a million rows go in

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, RoleGrant, User  # noqa: E402
from accounts.services import role_grant_add  # noqa: E402
from core.models import AuditEvent  # noqa: E402
from grid.models import (  # noqa: E402
    Grid,
    GridBuilding,
    GridColour,
    GridPost,
    GridPostType,
    Household,
    OrgNode,
    OrgNodeKind,
    OrgNodeMove,
    Tag,
)
from grid.services import org_node_create, org_tree_lock, tag_ensure_defaults  # noqa: E402

try:  # the project's own derivations, where this version of the code has them
    from grid.rules import phone_tail as project_phone_tail
except ImportError:  # pragma: no cover - older code
    project_phone_tail = None
try:
    from grid.models import default_place_name
except ImportError:  # pragma: no cover - older code
    default_place_name = None

CODE_PREFIX = "bench-"
PASSWORD = "Bench-city-2026"  # meets the password rules; documented in bench/README.md
SEED = 20261201

HAIWEI = {"name": "海维社区党委", "compounds": 5, "buildings": 518, "households": 11_334}
LAST_NAME = "望海社区党委"
BENCH_USERS = {
    # username: (role, which community: "first", "last" or None for every community)
    "bench-staff-first": (Role.COMMUNITY_STAFF, "first"),
    "bench-staff-last": (Role.COMMUNITY_STAFF, "last"),
    "bench-city-admin": (Role.SYSTEM_ADMIN, None),
}
# A liaison cadre of the first community, paired (issue 8) with CADRE_BUILDINGS buildings of its largest
# compound and CADRE_HOUSEHOLDS care households elsewhere in it: a cadre's pages at city scale.
BENCH_CADRE = "bench-cadre-first"
CADRE_BUILDINGS = 10
CADRE_HOUSEHOLDS = 200

FAMILY = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"  # noqa: E501
GIVEN = "建国秀英德明红梅桂芳志强丽娟海燕玉兰国华春生文静晓东永刚淑珍宏伟嘉欣浩然子涵雨轩思远佳怡俊杰"
ESTATE_WORDS = "阳光幸福和平锦绣金桥翠苑海景东方新华春晖绿洲康乐明珠华府龙湖西城北苑南湖朝阳滨河紫荆丽水银河世纪"
ESTATE_SUFFIXES = ("小区", "花园", "家园", "苑", "新村")
COMMUNITY_WORDS = "青山绿水长安兴隆永安富民东风红旗建设光明团结胜利新民育才文化振华丰收前进"
CARE_REASONS = ("独居老人，行动不便", "低保家庭，需定期走访", "重病患者，家中无人照料", "残疾人，出行困难")
REGIONS = ("150102", "150103", "150104", "150105", "150121")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def check_character(body: str) -> str:
    """GB 11643 (the same rule as grid.rules.id_number_check_character)."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def phone_tail(phone: str) -> str:
    if project_phone_tail is not None:
        return project_phone_tail(phone)
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


def place_name(name: str, kind: str) -> str:
    if default_place_name is not None:
        return default_place_name(name, kind)
    return ""


# --- the plan: what the city looks like, before anything is written ------------------------------


@dataclass
class BuildingPlan:
    name: str
    households: int
    has_hub: bool


@dataclass
class CompoundPlan:
    name: str
    buildings: list[BuildingPlan] = field(default_factory=list)


@dataclass
class CommunityPlan:
    index: int
    name: str
    compounds: list[CompoundPlan] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"{CODE_PREFIX}{self.index:04d}"

    @property
    def buildings(self) -> int:
        return sum(len(c.buildings) for c in self.compounds)

    @property
    def households(self) -> int:
        return sum(b.households for c in self.compounds for b in c.buildings)


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _community_shape(rng, index, name, households, compounds, buildings) -> CommunityPlan:
    community = CommunityPlan(index=index, name=name)
    estates = set()
    while len(estates) < compounds:
        estates.add(
            rng.choice(ESTATE_WORDS[::2]) + rng.choice(ESTATE_WORDS[1::2]) + rng.choice(ESTATE_SUFFIXES)
            if len(estates) < 60
            else f"第{len(estates) + 1}小区"
        )
    per_building = _split(households, buildings)
    b = 0
    for estate, count in zip(sorted(estates), _split(buildings, compounds), strict=True):
        compound = CompoundPlan(name=f"{estate}党支部")
        for number in range(1, count + 1):
            compound.buildings.append(
                BuildingPlan(name=f"{number}号楼党小组", households=per_building[b], has_hub=number % 4 == 1)
            )
            b += 1
        community.compounds.append(compound)
    return community


def city_plan(*, households: int, communities: int, seed: int = SEED) -> list[CommunityPlan]:
    """The first and the last community Haiwei-sized (scaled down for a small city), the rest random."""
    rng = random.Random(seed)
    big = min(HAIWEI["households"], households // 4)
    big_buildings = max(HAIWEI["compounds"], round(HAIWEI["buildings"] * big / HAIWEI["households"]))
    rest = households - 2 * big
    others = communities - 2
    if others < 1 or rest < others:
        raise SystemExit("Too few households for that many communities.")
    weights = [rng.uniform(0.5, 1.5) for _ in range(others)]
    scale = rest / sum(weights)
    sizes = [int(w * scale) for w in weights]
    for i in range(rest - sum(sizes)):
        sizes[i % others] += 1
    names = {HAIWEI["name"], LAST_NAME}
    plan = [_community_shape(rng, 1, HAIWEI["name"], big, HAIWEI["compounds"], big_buildings)]
    for i, size in enumerate(sizes, start=2):
        name = ""
        while not name or name in names:
            name = rng.choice(COMMUNITY_WORDS[::2]) + rng.choice(COMMUNITY_WORDS[1::2]) + "社区党委"
            if name in names:
                name = f"{name[:-4]}第{i}社区党委"
        names.add(name)
        buildings = max(1, round(size / 22))
        compounds = min(buildings, rng.randint(2, 8))
        plan.append(_community_shape(rng, i, name, size, compounds, buildings))
    plan.append(_community_shape(rng, communities, LAST_NAME, big, HAIWEI["compounds"], big_buildings))
    return plan


# --- columns: the model decides, this script fills what it knows -------------------------------------


def copy_columns(model, fillers: dict) -> list[tuple[str, str]]:
    """(field name, column) of the model's concrete fields, in order; refuse a NOT NULL one we cannot fill."""
    columns, unknown = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.name in fillers:
            columns.append((model_field.name, model_field.column))
        elif model_field.null:
            print(f"  note: {model._meta.label}.{model_field.name} is new to bench/city.py; left NULL")
        else:
            unknown.append(model_field.name)
    if unknown:
        raise SystemExit(
            f"{model._meta.label} has NOT NULL fields bench/city.py does not know how to fill: {', '.join(unknown)}. "
            "Teach the generator (bench/city.py) what the services put there before measuring."
        )
    return columns


NODE_FIELDS = {
    "id", "name", "kind", "parent", "place_name", "code", "is_active", "deactivated_at",
    "created_at", "updated_at", "lft", "rght", "tree_id", "level",
}  # fmt: skip
HOUSEHOLD_FIELDS = {
    "id", "community", "compound", "building", "hub", "unit", "room", "head_name", "phone",
    "phone_tail", "id_number", "resident_count", "is_care", "care_reason", "is_active",
    "created_at", "updated_at",
}  # fmt: skip


def _text(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def copy_rows(table: str, columns: list[str], rows) -> int:
    """COPY rows (sequences of values) into table, 50,000 at a time; returns how many."""
    count = 0
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg2's cursor, for copy_expert
        for row in rows:
            buffer.write("\t".join(_text(v) for v in row))
            buffer.write("\n")
            count += 1
            if count % 50_000 == 0:
                buffer.seek(0)
                raw.copy_expert(sql, buffer)
                buffer = io.StringIO()
        buffer.seek(0)
        raw.copy_expert(sql, buffer)
    return count


def reserve_ids(model, count: int) -> int:
    """Take ``count`` ids from the model's sequence (as ``count`` inserts would); returns the first."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("LOCK TABLE " + connection.ops.quote_name(table) + " IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = cursor.fetchone()[0]
        if count > 1:
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


# --- writing ------------------------------------------------------------------------------------------


def timed(label: str):
    class Timer:
        def __enter__(self):
            self.started = time.perf_counter()
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.started
            if exc[0] is None:
                print(f"  {label:<58} {self.seconds:7.1f} s")

    return Timer()


def bench_roots():
    return OrgNode.objects.filter(parent__isnull=True, code__startswith=CODE_PREFIX)


def reset_city() -> None:
    roots = list(bench_roots().values_list("id", "tree_id"))
    users = User.objects.filter(username__in=[*BENCH_USERS, BENCH_CADRE])
    if not roots:
        RoleGrant.objects.filter(user__in=users).delete()
        return
    root_ids = [r for r, _ in roots]
    tree_ids = [t for _, t in roots]
    with transaction.atomic():
        try:
            from liaison.models import Pairing, WorkTeam
        except ImportError:  # pragma: no cover - code before pairing
            pass
        else:
            teams = WorkTeam.objects.filter(community_id__in=root_ids)
            Pairing.objects.filter(team__in=teams).delete()
            teams.delete()
        node_ids = OrgNode.objects.filter(tree_id__in=tree_ids).values("id")
        RoleGrant.objects.filter(user__in=users).delete()
        RoleGrant.objects.filter(org_node__in=node_ids).delete()
        with connection.cursor() as cursor:
            through = Household.tags.through._meta.db_table
            cursor.execute(
                f"DELETE FROM {through} t USING {Household._meta.db_table} h "  # noqa: S608
                "WHERE t.household_id = h.id AND h.community_id = ANY(%s)",
                [root_ids],
            )
        Household.objects.filter(community_id__in=root_ids)._raw_delete(connection.alias)
        GridPost.objects.filter(grid__community_id__in=root_ids).delete()
        GridBuilding.objects.filter(grid__community_id__in=root_ids).delete()
        Grid.objects.filter(community_id__in=root_ids)._raw_delete(connection.alias)
        OrgNodeMove.objects.filter(node__in=node_ids).delete()
        ids = [str(pk) for pk in OrgNode.objects.filter(tree_id__in=tree_ids).values_list("id", flat=True)]
        AuditEvent.objects.filter(object_type="grid.orgnode", object_id__in=ids).delete()
        OrgNode.objects.filter(tree_id__in=tree_ids)._raw_delete(connection.alias)


def build_first_community(plan: CommunityPlan) -> dict:
    """Through the service, node by node, as the portal's 'add child' does."""
    ids = {}
    root = org_node_create(actor=None, name=plan.name, code=plan.code)
    ids[()] = root.pk
    for c, compound in enumerate(plan.compounds):
        compound_node = org_node_create(actor=None, name=compound.name, parent=root)
        ids[(c,)] = compound_node.pk
        for b, building in enumerate(compound.buildings):
            building_node = org_node_create(actor=None, name=building.name, parent=compound_node)
            ids[(c, b)] = building_node.pk
            if building.has_hub:
                hub = org_node_create(actor=None, name=building.name.replace("党小组", "中心户"), parent=building_node)
                ids[(c, b, "hub")] = hub.pk
    return ids


def _hub_name(building: BuildingPlan) -> str:
    return building.name.replace("党小组", "中心户")


def community_node_rows(plan: CommunityPlan, *, first_id: int, tree_id: int, now):
    """The community's nodes in creation order with their nested-set numbers; and their ids by path."""
    rows, ids = [], {}
    next_id = first_id

    def add(path, name, kind, parent_id, level):
        nonlocal next_id
        row = {
            "id": next_id,
            "name": name,
            "kind": kind,
            "parent": parent_id,
            "place_name": place_name(name, kind),
            "code": plan.code if kind == OrgNodeKind.COMMUNITY else "",
            "is_active": True,
            "deactivated_at": None,
            "created_at": now,
            "updated_at": now,
            "lft": None,
            "rght": None,
            "tree_id": tree_id,
            "level": level,
        }
        ids[path] = next_id
        next_id += 1
        rows.append(row)
        return row

    counter = 0

    def number(row, children):
        nonlocal counter
        counter += 1
        row["lft"] = counter
        for child in children:
            child()
        counter += 1
        row["rght"] = counter

    root = add((), plan.name, OrgNodeKind.COMMUNITY, None, 0)

    def build_root():
        def compounds():
            for c, compound in enumerate(plan.compounds):
                yield lambda c=c, compound=compound: build_compound(c, compound)

        number(root, list(compounds()))

    def build_compound(c, compound):
        row = add((c,), compound.name, OrgNodeKind.COMPOUND, root["id"], 1)
        number(row, [lambda b=b, building=building: build_building(c, b, building, row)
                     for b, building in enumerate(compound.buildings)])  # fmt: skip

    def build_building(c, b, building, compound_row):
        row = add((c, b), building.name, OrgNodeKind.BUILDING, compound_row["id"], 2)
        hubs = []
        if building.has_hub:
            hubs.append(lambda: number(add((c, b, "hub"), _hub_name(building), OrgNodeKind.HUB, row["id"], 3), []))
        number(row, hubs)

    build_root()
    return rows, ids


def node_count(plan: CommunityPlan) -> int:
    return 1 + sum(1 + sum(1 + b.has_hub for b in c.buildings) for c in plan.compounds)


def copy_communities(plans: list[CommunityPlan]) -> dict[int, dict]:
    """COPY every community but the first; mptt numbers computed here. Returns ids by path per community."""
    now = timezone.now()
    columns = copy_columns(OrgNode, NODE_FIELDS)
    org_tree_lock(tree_id=None)  # as a new root does: no other new tree meanwhile
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(tree_id), 0) FROM " + OrgNode._meta.db_table)
        tree_id = cursor.fetchone()[0]
    first_id = reserve_ids(OrgNode, sum(node_count(p) for p in plans))
    all_ids, all_rows = {}, []
    for plan in plans:
        tree_id += 1
        rows, ids = community_node_rows(plan, first_id=first_id, tree_id=tree_id, now=now)
        first_id += len(rows)
        all_ids[plan.index] = ids
        all_rows.extend(rows)
    copy_rows(OrgNode._meta.db_table, [c for _, c in columns], ([row[n] for n, _ in columns] for row in all_rows))
    return all_ids


def household_rows(plans, ids_by_community, *, first_id, tags, tag_links, rng, now):
    """Every household of the city, in table order; its tag links go into ``tag_links``."""
    hid = first_id
    for plan in plans:
        ids = ids_by_community[plan.index]
        community_id = ids[()]
        for c, compound in enumerate(plan.compounds):
            for b, building in enumerate(compound.buildings):
                hub_id = ids.get((c, b, "hub"))
                for n in range(building.households):
                    unit, in_unit = divmod(n, 12)
                    floor, door = divmod(in_unit, 2)
                    phone = "" if rng.random() < 0.08 else f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
                    if rng.random() < 0.1:
                        id_number = ""
                    else:
                        body = f"{rng.choice(REGIONS)}{rng.randint(1935, 2005)}{rng.randint(1, 12):02d}"
                        body += f"{rng.randint(1, 28):02d}{rng.randrange(1000):03d}"
                        id_number = body + check_character(body)
                    care = rng.random() < 0.05
                    roll = rng.random()
                    if roll < 0.2:
                        tag_links.append((hid, rng.choice(tags)))
                        if roll < 0.05:
                            tag_links.append((hid, rng.choice(tags)))
                    yield {
                        "id": hid,
                        "community": community_id,
                        "compound": ids[(c,)],
                        "building": ids[(c, b)],
                        "hub": hub_id if hub_id and unit == 0 else None,
                        "unit": str(unit + 1),
                        "room": f"{floor + 1}{door + 1:02d}",
                        "head_name": rng.choice(FAMILY) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2]),
                        "phone": phone,
                        "phone_tail": phone_tail(phone),
                        "id_number": id_number,
                        "resident_count": rng.randint(1, 5),
                        "is_care": care,
                        "care_reason": rng.choice(CARE_REASONS) if care else "",
                        "is_active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    hid += 1


def copy_households(plans, ids_by_community) -> tuple[int, int]:
    columns = copy_columns(Household, HOUSEHOLD_FIELDS)
    total = sum(p.households for p in plans)
    first_id = reserve_ids(Household, total)
    tags = list(Tag.objects.values_list("id", flat=True))
    rng = random.Random(SEED + 1)
    tag_links = []
    rows = household_rows(
        plans, ids_by_community, first_id=first_id, tags=tags, tag_links=tag_links, rng=rng, now=timezone.now()
    )
    count = copy_rows(Household._meta.db_table, [c for _, c in columns], ([r[n] for n, _ in columns] for r in rows))
    through = Household.tags.through._meta
    links = sorted(set(tag_links))
    copy_rows(
        through.db_table,
        [through.get_field("household").column, through.get_field("tag").column],
        links,
    )
    return count, len(links)


def create_grids(plans, ids_by_community) -> tuple[int, int]:
    rng = random.Random(SEED + 2)
    today = timezone.localdate()
    grids, members = [], []
    for plan in plans:
        ids = ids_by_community[plan.index]
        buildings = [ids[(c, b)] for c, compound in enumerate(plan.compounds) for b in range(len(compound.buildings))]
        count = max(1, round(len(buildings) / 22))
        for g, part in enumerate(_split(len(buildings), count)):
            colour = rng.choices([GridColour.GREEN, GridColour.YELLOW, GridColour.RED], [8, 1.5, 0.5])[0]
            grid = Grid(
                community_id=ids[()],
                name=f"第{g + 1}网格",
                code=f"{g + 1:02d}",
                colour=colour,
                colour_reason="" if colour == GridColour.GREEN else "老旧管网，需重点走访",
                colour_set_on=None if colour == GridColour.GREEN else today,
            )
            grids.append(grid)
            members.append(buildings[:part])
            buildings = buildings[part:]
    Grid.objects.bulk_create(grids, batch_size=5000)
    links = [GridBuilding(grid=grid, building_id=b) for grid, part in zip(grids, members, strict=True) for b in part]
    GridBuilding.objects.bulk_create(links, batch_size=5000)
    posts = []
    for grid in grids:
        posts.append(GridPost(grid=grid, post_type=GridPostType.A, title="专职网格员"))
        posts.append(GridPost(grid=grid, post_type=GridPostType.B, title="楼栋长"))
    GridPost.objects.bulk_create(posts, batch_size=5000)
    for grid in rng.sample(grids, min(20, len(grids))):
        grid.full_clean()
    return len(grids), len(posts)


def create_users(first_root: int, last_root: int) -> None:
    """Known password hashes set directly; nobody is asked to change it at login."""
    from axes.utils import reset as axes_reset

    has_must_change = any(f.name == "must_change_password" for f in User._meta.concrete_fields)
    for username, (role, where) in BENCH_USERS.items():
        user = User.objects.filter(username=username).first() or User(username=username)
        user.full_name = {"first": "首社区工作人员", "last": "末社区工作人员", None: "全市管理员"}[where]
        user.password = make_password(PASSWORD)
        user.is_active = True
        if has_must_change:
            user.must_change_password = False
        user.save()
        RoleGrant.objects.filter(user=user).delete()
        node = {"first": first_root, "last": last_root, None: None}[where]
        role_grant_add(actor=None, user=user, role=role, org_node=OrgNode.objects.get(pk=node) if node else None)
        axes_reset(username=username)  # an earlier run's failed logins do not lock this one out
    create_cadre(first_root)


def create_cadre(first_root: int) -> None:
    """The bench cadre, paired through liaison.services as the pairing pages pair (skipped before pairing)."""
    try:
        from liaison.models import PairingTier
        from liaison.services import pairing_create, work_group_create, work_group_member_add, work_team_create
    except ImportError:  # pragma: no cover - code before pairing
        return
    from axes.utils import reset as axes_reset

    community = OrgNode.objects.get(pk=first_root)
    user = User.objects.filter(username=BENCH_CADRE).first() or User(username=BENCH_CADRE)
    user.full_name, user.password = "首社区包联干部", make_password(PASSWORD)
    user.is_active, user.must_change_password = True, False
    user.save()
    axes_reset(username=BENCH_CADRE)
    start = timezone.localdate() - timedelta(days=90)
    team = work_team_create(actor=None, bureau_name="市住建局", name="筑堡工作队", community=community)
    compound = OrgNode.objects.filter(parent=community).annotate(size=Count("children")).order_by("-size", "id").first()
    group = work_group_create(actor=None, team=team, name="第一工作组", compound=compound, starts_on=start)
    work_group_member_add(actor=None, group=group, cadre=user, joined_on=start)
    buildings = OrgNode.objects.filter(parent=compound).order_by("lft")[:CADRE_BUILDINGS]
    care = (
        Household.objects.filter(community_id=first_root, is_care=True, is_active=True)
        .exclude(building__in=buildings)
        .order_by("id")[:CADRE_HOUSEHOLDS]
    )
    places = [{"node": building} for building in buildings] + [{"household": household} for household in care]
    for place in places:
        pairing_create(
            actor=None, team=team, tier=PairingTier.CADRE, cadre=user, work_group=group, starts_on=start, **place
        )


# --- checks ---------------------------------------------------------------------------------------------


def nested_sets_from_parents(nodes) -> dict[int, tuple[int, int, int]]:
    """What mptt's rebuild gives a tree (children in id order): {id: (lft, rght, level)}."""
    children, root = {}, None
    for pk, parent in sorted(nodes):
        children.setdefault(parent, []).append(pk)
        if parent is None:
            root = pk
    result, counter, stack = {}, 0, [(root, 0, False)]
    while stack:
        pk, level, closing = stack.pop()
        counter += 1
        if closing:
            lft, _, lvl = result[pk]
            result[pk] = (lft, counter, lvl)
            continue
        result[pk] = (counter, None, level)
        stack.append((pk, level, True))
        for child in reversed(children.get(pk, [])):
            stack.append((child, level + 1, False))
    return result


def check_trees(plans) -> None:
    roots = dict(bench_roots().values_list("code", "tree_id"))
    first, last = roots[plans[0].code], roots[plans[-1].code]

    def layout(tree_id):
        return list(OrgNode.objects.filter(tree_id=tree_id).order_by("lft").values_list("level", "lft", "rght", "kind"))

    if len(plans[0].compounds) == len(plans[-1].compounds) and plans[0].buildings == plans[-1].buildings:
        assert layout(first) == layout(last), "the COPY-built last tree differs from the service-built first one"
    sample = [first, last, *random.Random(SEED).sample(sorted(roots.values()), min(8, len(roots)))]
    for tree_id in sample:
        nodes = list(OrgNode.objects.filter(tree_id=tree_id).values_list("id", "parent_id", "lft", "rght", "level"))
        expected = nested_sets_from_parents([(pk, parent) for pk, parent, *_ in nodes])
        stored = {pk: (lft, rght, level) for pk, _, lft, rght, level in nodes}
        assert stored == expected, f"tree {tree_id}: lft/rght/level differ from a rebuild from the parent links"
    table = OrgNode._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM {table} n JOIN {table} p ON p.id = n.parent_id
                WHERE n.tree_id = ANY(%s) AND (n.tree_id <> p.tree_id OR n.level <> p.level + 1
                      OR n.lft <= p.lft OR n.rght >= p.rght OR n.rght <= n.lft)""",  # noqa: S608
            [list(roots.values())],
        )
        assert cursor.fetchone()[0] == 0, "a node breaks the nested-set rules"
        cursor.execute(
            f"""SELECT count(*) FROM (SELECT tree_id, count(*) AS nodes, max(rght) AS top,
                       count(*) FILTER (WHERE parent_id IS NULL) AS roots
                FROM {table} WHERE tree_id = ANY(%s) GROUP BY tree_id) t
                WHERE roots <> 1 OR top <> 2 * nodes""",  # noqa: S608
            [list(roots.values())],
        )
        assert cursor.fetchone()[0] == 0, "a tree has more than one root or gaps in its numbering"


def check_households(plans) -> None:
    roots = list(bench_roots().values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM {Household._meta.db_table} h
                JOIN {OrgNode._meta.db_table} b ON b.id = h.building_id
                JOIN {OrgNode._meta.db_table} c ON c.id = b.parent_id
                LEFT JOIN {OrgNode._meta.db_table} hub ON hub.id = h.hub_id
                WHERE h.community_id = ANY(%s) AND (b.kind <> 'building' OR h.compound_id <> c.id
                      OR h.community_id <> c.parent_id OR (h.hub_id IS NOT NULL AND hub.parent_id <> b.id))""",  # noqa: S608
            [roots],
        )
        assert cursor.fetchone()[0] == 0, "a household is not stamped as the services stamp it"
    from grid import rules

    sample_ids = random.Random(SEED).sample(
        list(Household.objects.filter(community_id__in=[roots[0], roots[-1]]).values_list("id", flat=True)), 300
    )
    for household in Household.objects.filter(id__in=sample_ids).select_related("building", "compound"):
        household.full_clean()
        for name in getattr(rules, "TEXT_FIELDS", ()):
            value = getattr(household, name)
            assert rules.normalise_household_field(name, value) == value, (name, value)
        if hasattr(household, "phone_tail"):
            assert household.phone_tail == phone_tail(household.phone)


# --- main -------------------------------------------------------------------------------------------------


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, help="default 500, or one per 2,000 households below 1M")
    parser.add_argument("--reset", action="store_true", help="remove an earlier bench city first")
    parser.add_argument("--reset-only", action="store_true", help="remove the bench city and stop")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The bench city needs PostgreSQL (COPY): set DATABASE_URL.")
    database = connection.settings_dict
    if "bench" not in (database["NAME"] or "") or (database["HOST"] or "localhost") not in LOCAL_HOSTS:
        # It writes a million rows and a city-wide admin whose password is in the README.
        raise SystemExit(
            f"The bench city is built only in a local database whose name says bench (here: {database['NAME']} "
            f"on {database['HOST'] or 'localhost'}), e.g. postgres://postgres@127.0.0.1:5432/zhubao_bench."
        )
    communities = options.communities or (
        500 if options.households >= 1_000_000 else max(4, options.households // 2000)
    )
    print(f"Database {connection.settings_dict['NAME']}; load average {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    if options.reset or options.reset_only:
        with timed("remove the earlier bench city"):
            reset_city()
        if options.reset_only:
            return
    if bench_roots().exists():
        raise SystemExit("A bench city is already there: run with --reset to replace it.")
    with timed("plan"):
        plans = city_plan(households=options.households, communities=communities)
    nodes = sum(node_count(p) for p in plans)
    print(
        f"  {len(plans)} communities, {nodes:,} org nodes, {sum(p.households for p in plans):,} households; "
        f"first and last: {plans[0].households:,} households, {plans[0].buildings} buildings, "
        f"{len(plans[0].compounds)} compounds"
    )
    tag_ensure_defaults()
    with transaction.atomic():
        with timed(f"first community through org_node_create ({node_count(plans[0])} nodes)"):
            ids = {plans[0].index: build_first_community(plans[0])}
        with timed(f"the other {len(plans) - 1} trees by COPY ({nodes - node_count(plans[0]):,} nodes)"):
            ids.update(copy_communities(plans[1:]))
        with timed("households and their tags by COPY"):
            households, links = copy_households(plans, ids)
        print(f"    {households:,} households, {links:,} tag links")
        with timed("grids, their buildings and posts"):
            grids, posts = create_grids(plans, ids)
        print(f"    {grids:,} grids, {posts:,} posts")
        with timed("users and grants"):
            create_users(ids[plans[0].index][()], ids[plans[-1].index][()])
        with timed("check the trees and the households' stamps"):
            check_trees(plans)
            check_households(plans)
    with timed("VACUUM (ANALYZE)"):
        with connection.cursor() as cursor:
            for model in (OrgNode, Household, Household.tags.through, Grid, GridBuilding, GridPost, RoleGrant, User):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    users = ", ".join([*BENCH_USERS, BENCH_CADRE])
    print(f"Done in {time.perf_counter() - started:.1f} s. Users {users}, password {PASSWORD}")


if __name__ == "__main__":
    main()
