"""Demo data: one bureau work team paired with one old-compound community.

    python manage.py seed_demo --password PW        (or DEMO_PASSWORD in the environment)

Built from the figures in the domain brief: 北苑社区 with 6 compound branches, 40
building groups, 8 member-household hubs, ~2,000 households (~5 % care households),
12 grids with A/B/C posts of which exactly 3 are vacant (空岗), grids coloured mostly
green with one red and two yellow, four departments, and the 筑堡工作队 of the
市住房和城乡建设局: a leader, 4 work groups each paired with a compound, 30 cadres.

The tree, people, grants, teams and grids are written through the services; the
households are validated like household_create does and written with bulk_create
(stamped with their community, compound and building), which keeps a full run at a
few seconds. Three import jobs of the staff login follow (demo/imports.py): one written and
undoable, one checked and waiting for confirmation, one refused with its errors.
Deterministic (a seeded random generator) and idempotent: a second run
finds every node, user, grant, grid, post and household by its natural key, creates
nothing twice and only sets the passwords again.
"""

import os
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Department, Role, User
from accounts.services import department_create, role_grant_add, user_create
from demo.imports import seed_imports
from grid.models import (
    Grid,
    GridColour,
    GridPost,
    GridPostType,
    Household,
    ImportChange,
    OrgNode,
    Tag,
    id_number_check_character,
)
from grid.rules import phone_tail
from grid.services import grid_create, grid_post_create, grid_set_colour, org_node_create
from liaison.models import Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam
from liaison.services import pairing_create, work_group_create, work_group_member_add, work_team_create

SEED = 20240601
BUREAU = "市住房和城乡建设局"
TEAM = "筑堡工作队"
COMMUNITY = "北苑社区"
# (compound branch, number of building groups); the first four are the large branches
# (大支部) paired with the four work groups.
COMPOUNDS = [
    ("阳光小区党支部", 9),
    ("和平小区党支部", 8),
    ("建设小区党支部", 8),
    ("团结小区党支部", 7),
    ("向阳小区党支部", 4),
    ("幸福小区党支部", 4),
]
WORK_GROUPS = ["第一工作组", "第二工作组", "第三工作组", "第四工作组"]
# The small compounds are looked after by the groups of the first two.
EXTRA_COMPOUND_OF_GROUP = {0: 4, 1: 5}
HUB_HEADS = ["张建国", "李秀英", "王德明", "刘桂兰", "陈志强", "杨淑珍", "赵振华", "黄玉梅"]
# Buildings per grid, in tree order (40 buildings, 12 grids).
GRID_SIZES = [4, 3, 4, 3, 4, 3, 3, 4, 3, 3, 3, 3]
GRID_NUMBERS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
VACANT_GRIDS = {"04", "08", "11"}  # their full-time grid-worker (A) post is vacant
GRID_COLOURS = {
    "03": (GridColour.RED, "2栋楼外墙空鼓脱落，冬季供暖投诉集中，需每日巡查"),
    "07": (GridColour.YELLOW, "独居老人集中，需加密走访"),
    "10": (GridColour.YELLOW, "地下管网老化，雨季易返水"),
}
DEPARTMENTS = [
    ("城管局", "urban-management"),
    ("房产局", "housing"),
    ("供暖公司", "heating"),
    ("信访办", "petitions"),
]
CADRES = 30
PAIRING_DAYS = 150  # the team was paired this many days ago
ENDED_CARE_PAIRINGS = 3  # care households whose second cadre's pairing ended ENDED_DAYS_AGO
ENDED_DAYS_AGO = 20
CARE_SHARE = 0.05

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彩春菊凤梅琴云莲真环雪荣爱妹霞香月"
    "莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁"
    "梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔"
    "建国志国振华德明立新永红海峰文斌宏伟国庆春生金山玉林长江福来"
)
PHONE_PREFIXES = (
    "130 131 132 135 136 137 138 139 150 151 152 155 156 157 158 159 176 177 180 181 182 185 186 187 188 189".split()
)
AREA_CODES = ["150202", "150203", "150204", "150205", "150207"]  # districts of a northern city
# (tag code, care reason) for care households.
CARE_KINDS = [
    ("elderly-alone", "独居老人，子女在外地，需每周电话联系、每月上门"),
    ("elderly-alone", "独居老人，行动不便，冬季需关注取暖"),
    ("empty-nest", "空巢老人，老两口均年过七旬"),
    ("disabled", "肢体残疾二级，出行困难，需上门服务"),
    ("low-income", "低保户，家庭收入低，冬季取暖困难"),
    ("special-hardship", "特困供养人员，无劳动能力"),
    ("serious-illness", "家中有大病患者，长期治疗，经济负担重"),
    ("left-behind-child", "父母外出务工，祖辈照看留守儿童"),
]


@dataclass
class Login:
    username: str
    role: str
    where: str


class Command(BaseCommand):
    help = "Create (or refresh) the demo community, work team, grids and logins. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD"),
            help="Password for every demo login (default: the DEMO_PASSWORD environment variable).",
        )
        parser.add_argument(
            "--households", type=int, default=2000, help="How many households to create (default 2000)."
        )

    def handle(self, *args, password=None, households=2000, **options):
        if not password:
            raise CommandError("Give the demo password: --password PW or DEMO_PASSWORD in the environment.")
        # The system sets the demo logins' password, so it is not held to the password rules (the
        # README's walkthrough uses zhubao-demo) and no one is asked to change it at first login.
        if len(password) < 8:
            raise CommandError("The demo password is too weak: use at least 8 characters.")
        if households < 0:
            raise CommandError("--households must be 0 or more.")
        started = time.monotonic()
        self.rng = random.Random(SEED)
        self.used_phones: set[str] = set()
        self.used_ids: set[str] = set()
        # The team started with the heating season's preparation: months of pairing history.
        self.pairing_start = timezone.localdate() - timedelta(days=PAIRING_DAYS)
        with transaction.atomic():
            logins, created_households = self._seed(households)
            # One hash for every demo login: hashing ~60 passwords one by one takes half a minute.
            User.objects.filter(username__in=self.demo_usernames).update(
                password=make_password(password), must_change_password=False, password_changed_at=timezone.now()
            )
        # Import jobs of the staff login: written (undoable), waiting for confirmation, refused.
        imports = seed_imports(User.objects.get(username="staff"))
        elapsed = time.monotonic() - started
        self._print_summary(logins, created_households, elapsed)
        if imports:
            self.stdout.write(
                "Import jobs of staff: " + "; ".join(f"{job.original_name} ({job.status})" for job in imports)
            )

    # --- the world ---------------------------------------------------------------------------

    def _seed(self, household_total: int):
        self.demo_usernames: list[str] = []
        admin = self._user("admin", "系统管理员")
        User.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
        role_grant_add(actor=None, user=admin, role=Role.SYSTEM_ADMIN)

        community = self._node(COMMUNITY, None, actor=admin)
        compounds = [self._node(name, community, actor=admin) for name, _count in COMPOUNDS]
        buildings: list[OrgNode] = []
        for compound, (name, count) in zip(compounds, COMPOUNDS, strict=True):
            short = name.removesuffix("党支部")
            buildings += [
                # Place names for addresses: 阳光小区 (from the compound's name) and 1号楼.
                self._node(f"{short}{number}号楼党小组", compound, actor=admin, place_name=f"{number}号楼")
                for number in range(1, count + 1)
            ]
        hub_buildings = [buildings[index] for index in range(0, len(buildings), len(buildings) // len(HUB_HEADS))]
        hubs = {
            building.pk: self._node(f"{head}党员中心户", building, actor=admin)
            for building, head in zip(hub_buildings, HUB_HEADS, strict=True)
        }
        departments = [self._department(name, code, actor=admin) for name, code in DEPARTMENTS]

        # People: the documented logins first.
        leader = self._user("leader", self._name())
        staff = self._user("staff", self._name())
        dept = self._user("dept", self._name())
        role_grant_add(actor=admin, user=staff, role=Role.COMMUNITY_STAFF, org_node=community)
        role_grant_add(actor=admin, user=dept, role=Role.DEPARTMENT_HANDLER, department=departments[0])

        team = WorkTeam.objects.filter(community=community, name=TEAM).first() or work_team_create(
            actor=admin, bureau_name=BUREAU, name=TEAM, community=community, leader=leader
        )
        start = self.pairing_start
        # The bureau leader is paired with the community (the first tier), from the team's start.
        self._pair(team, PairingTier.COMMUNITY, cadre=leader, node=community, starts_on=start, actor=admin)
        group_leads = [self._user("grouplead" if i == 0 else f"grouplead{i + 1}", self._name()) for i in range(4)]
        groups = []
        for index, (name, lead) in enumerate(zip(WORK_GROUPS, group_leads, strict=True)):
            group = WorkGroup.objects.filter(team=team, name=name).first() or work_group_create(
                actor=admin, team=team, name=name, leader=lead
            )
            # The second tier: each work group with its large compound branch (大支部), the first two
            # also with a small one.
            self._pair(
                team, PairingTier.COMPOUND, work_group=group, node=compounds[index], starts_on=start, actor=admin
            )
            if index in EXTRA_COMPOUND_OF_GROUP:
                extra = compounds[EXTRA_COMPOUND_OF_GROUP[index]]
                self._pair(team, PairingTier.COMPOUND, work_group=group, node=extra, starts_on=start, actor=admin)
            self._join(group, lead, start, actor=admin)
            groups.append(group)

        # The third tier. Cadres: cadre1 in group 1, cadre2 in group 2, … ; each building gets one
        # cadre of the group that looks after its compound.
        cadres_of_group: dict[int, list[User]] = {index: [] for index in range(4)}
        for number in range(1, CADRES + 1):
            cadre = self._user(f"cadre{number}", self._name())
            group_index = (number - 1) % 4
            self._join(groups[group_index], cadre, start, actor=admin)
            cadres_of_group[group_index].append(cadre)
        compound_of_building = {}
        offset = 0
        for compound_index, (_name, count) in enumerate(COMPOUNDS):
            for building in buildings[offset : offset + count]:
                compound_of_building[building.pk] = compound_index
            offset += count
        group_of_compound = {index: index for index in range(4)}
        group_of_compound.update({extra: group for group, extra in EXTRA_COMPOUND_OF_GROUP.items()})
        next_cadre = {index: 0 for index in range(4)}
        self.cadre_of_building: dict[int, User] = {}
        self.group_of_building: dict[int, int] = {}
        cadre_buildings: dict[str, list[OrgNode]] = {}
        for building in buildings:
            group_index = group_of_compound[compound_of_building[building.pk]]
            members = cadres_of_group[group_index]
            cadre = members[next_cadre[group_index] % len(members)]
            next_cadre[group_index] += 1
            self._pair(
                team,
                PairingTier.CADRE,
                cadre=cadre,
                work_group=groups[group_index],
                node=building,
                starts_on=start,
                actor=admin,
            )
            self.cadre_of_building[building.pk] = cadre
            self.group_of_building[building.pk] = group_index
            cadre_buildings.setdefault(cadre.username, []).append(building)
        self.team, self.groups, self.cadres_of_group = team, groups, cadres_of_group

        grids = self._grids(community, buildings, actor=admin)
        created = self._households(community, buildings, hubs, household_total)
        self._pair_care_households(admin)

        logins = [
            Login("admin", "System admin (all communities; Django admin)", "—"),
            Login("leader", "Bureau leader, leads the work team", COMMUNITY),
            Login("grouplead", "Work-group leader", f"{COMPOUNDS[0][0]}、{COMPOUNDS[4][0]} ({WORK_GROUPS[0]})"),
            Login("staff", "Community staff", COMMUNITY),
            Login("gridworker", "Grid worker", f"{grids[0].name} ({grids[0].code})"),
            Login("dept", "Department handler", departments[0].name),
            Login(
                "cadre1", "Liaison cadre", "、".join(b.name for b in cadre_buildings["cadre1"]) + ", care households"
            ),
            Login(
                "cadre2", "Liaison cadre", "、".join(b.name for b in cadre_buildings["cadre2"]) + ", care households"
            ),
            Login("cadre3 … cadre30", "Liaison cadres", "one or two buildings each, and care households"),
        ]
        return logins, created

    def _join(self, group, cadre, joined_on, *, actor):
        if not WorkGroupMembership.objects.filter(group=group, cadre=cadre).exists():
            work_group_member_add(actor=actor, group=group, cadre=cadre, joined_on=joined_on)

    def _pair(
        self, team, tier, *, actor, starts_on, cadre=None, work_group=None, node=None, household=None, ends_on=None
    ):
        """A pairing, unless the same one is already there (a second run creates nothing twice)."""
        exists = Pairing.objects.filter(
            team=team, tier=tier, cadre=cadre, work_group=work_group, node=node, household=household
        ).exists()
        if not exists:
            pairing_create(
                actor=actor,
                team=team,
                tier=tier,
                cadre=cadre,
                work_group=work_group,
                node=node,
                household=household,
                starts_on=starts_on,
                ends_on=ends_on,
            )

    def _pair_care_households(self, admin):
        """多帮一: every care household gets a second cadre of its building's group besides the building's own.
        For the first ENDED_CARE_PAIRINGS the second cadre's pairing ended ENDED_DAYS_AGO (history, and what the
        coverage view lists as care households short of their second cadre)."""
        imported = ImportChange.objects.filter(
            kind=ImportChange.Kind.HOUSEHOLD, operation=ImportChange.Operation.CREATED
        ).values("object_id")
        care = (
            Household.objects.filter(community=self.team.community, is_care=True, is_active=True)
            .exclude(pk__in=imported)  # the demo import's households are new arrivals, not paired yet
            .order_by("id")
        )
        turn = {index: 0 for index in self.cadres_of_group}  # each cadre of a group in turn
        for household in care.only("id", "building_id", "community_id", "is_active"):
            group_index = self.group_of_building[household.building_id]
            members = self.cadres_of_group[group_index]
            own = self.cadre_of_building[household.building_id]
            others = [member for member in members if member.pk != own.pk]
            second = others[turn[group_index] % len(others)]
            turn[group_index] += 1
            ends_on = None
            if sum(turn.values()) <= ENDED_CARE_PAIRINGS:
                ends_on = timezone.localdate() - timedelta(days=ENDED_DAYS_AGO)
            self._pair(
                self.team,
                PairingTier.CADRE,
                cadre=second,
                work_group=self.groups[group_index],
                household=household,
                starts_on=self.pairing_start,
                ends_on=ends_on,
                actor=admin,
            )

    def _grids(self, community, buildings, *, actor):
        grids = []
        offset = 0
        grid_heads = [self._user("gridhead1", self._name()), self._user("gridhead2", self._name())]
        for index, size in enumerate(GRID_SIZES):
            code = f"{index + 1:02d}"
            members = buildings[offset : offset + size]
            offset += size
            grid = Grid.objects.filter(community=community, code=code).first()
            if grid is None:
                grid = grid_create(
                    actor=actor, community=community, name=f"第{GRID_NUMBERS[index]}网格", code=code, buildings=members
                )
                if code in GRID_COLOURS:
                    colour, reason = GRID_COLOURS[code]
                    grid_set_colour(actor=actor, grid=grid, colour=colour, reason=reason)
            worker = None
            if code not in VACANT_GRIDS:
                worker = self._user("gridworker" if code == "01" else f"gridworker{code}", self._name())
            helper = self._user(f"buildinghead{code}", self._name())
            head = grid_heads[0 if index < len(GRID_SIZES) // 2 else 1]
            self._post(grid, GridPostType.A, "专职网格员", worker, actor=actor)
            self._post(grid, GridPostType.B, "楼栋长", helper, actor=actor)
            self._post(grid, GridPostType.C, "网格长", head, actor=actor)
            grids.append(grid)
        return grids

    def _households(self, community, buildings, hubs, total: int) -> int:
        tags = {tag.code: tag for tag in Tag.objects.all()}
        weights = [self.rng.randint(30, 70) for _ in buildings]
        counts = _apportion(total, weights)
        care_indexes = set(self.rng.sample(range(total), round(total * CARE_SHARE))) if total else set()
        existing = set(
            Household.objects.filter(community=community, is_active=True).values_list("building_id", "unit", "room")
        )
        rows: list[tuple[Household, list[str]]] = []
        serial = 0
        for building, count in zip(buildings, counts, strict=True):
            hub = hubs.get(building.pk)
            for position in range(count):
                unit, room = _address(position)
                household, tag_codes = self._household(building, unit, room, serial in care_indexes)
                if hub is not None and position < 10:
                    household.hub = hub
                    if position == 0:
                        household.head_name = hub.name.removesuffix("党员中心户")
                        tag_codes.append("party-member")
                serial += 1
                if (building.pk, unit, room) in existing:
                    continue
                household.full_clean(validate_unique=False, validate_constraints=False)
                rows.append((household, tag_codes))
        created = Household.objects.bulk_create([household for household, _codes in rows], batch_size=1000)
        through = Household.tags.through
        links = [
            through(household_id=household.pk, tag_id=tags[code].pk)
            for household, (_row, codes) in zip(created, rows, strict=True)
            for code in dict.fromkeys(codes)
            if code in tags
        ]
        through.objects.bulk_create(links, batch_size=2000)
        return len(created)

    def _household(self, building, unit, room, is_care):
        rng = self.rng
        tag_codes: list[str] = []
        care_reason = ""
        birth_year = rng.randint(1936, 2001)
        if is_care:
            code, care_reason = rng.choice(CARE_KINDS)
            tag_codes.append(code)
            if code in {"elderly-alone", "empty-nest"}:
                birth_year = rng.randint(1936, 1955)
        else:
            roll = rng.random()
            if roll < 0.06:
                tag_codes.append("party-member")
            elif roll < 0.09:
                tag_codes.append("veteran")
            elif roll < 0.13 and birth_year < 1960:
                tag_codes.append("empty-nest")
        household = Household(
            community_id=building.parent.parent_id,
            compound_id=building.parent_id,
            building=building,
            unit=unit,
            room=room,
            head_name=self._name(),
            phone=(phone := self._phone()),
            phone_tail=phone_tail(phone),  # the search column, as household_create keeps it
            id_number=self._id_number(birth_year),
            resident_count=1 if "elderly-alone" in tag_codes else rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]),
            is_care=is_care,
            care_reason=care_reason,
        )
        return household, tag_codes

    # --- natural keys: find or create ------------------------------------------------------------

    def _node(self, name, parent, *, actor, place_name=""):
        node = OrgNode.objects.filter(parent=parent, name=name).first()
        return node or org_node_create(actor=actor, name=name, parent=parent, place_name=place_name)

    def _department(self, name, code, *, actor):
        return Department.objects.filter(code=code).first() or department_create(actor=actor, name=name, code=code)

    def _user(self, username, full_name):
        self.demo_usernames.append(username)
        phone = self._phone()  # drawn either way, so later values do not depend on what exists
        user = User.objects.filter(username=username).first()
        return user or user_create(actor=None, username=username, password=None, full_name=full_name, phone=phone)

    def _post(self, grid, post_type, title, holder, *, actor):
        if GridPost.objects.filter(grid=grid, post_type=post_type, title=title).exists():
            return
        grid_post_create(actor=actor, grid=grid, post_type=post_type, title=title, holder=holder)

    # --- believable values --------------------------------------------------------------------------

    def _name(self) -> str:
        rng = self.rng
        length = 1 if rng.random() < 0.3 else 2
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(length))

    def _phone(self) -> str:
        while True:
            phone = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def _id_number(self, birth_year: int) -> str:
        rng = self.rng
        while True:
            body = (
                f"{rng.choice(AREA_CODES)}{birth_year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                f"{rng.randrange(1000):03d}"
            )
            value = body + id_number_check_character(body)
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    # --- output ---------------------------------------------------------------------------------------

    def _print_summary(self, logins, created_households, elapsed):
        community = OrgNode.objects.get(parent=None, name=COMMUNITY)
        households = Household.objects.filter(community=community, is_active=True)
        grids = Grid.objects.filter(community=community)
        vacant = GridPost.objects.filter(grid__community=community, holder__isnull=True).count()
        write = self.stdout.write
        write(
            f"Demo community {COMMUNITY}: {community.get_descendant_count()} org nodes, "
            f"{households.count()} households ({households.filter(is_care=True).count()} care), "
            f"{grids.count()} grids ({vacant} vacant posts); {created_households} households created "
            f"in this run; {elapsed:.1f} s."
        )
        write("")
        write("Demo logins (every one with the demo password):")
        width = max(len(login.username) for login in logins)
        role_width = max(len(login.role) for login in logins)
        write(f"  {'username'.ljust(width)}  {'role'.ljust(role_width)}  where")
        for login in logins:
            write(f"  {login.username.ljust(width)}  {login.role.ljust(role_width)}  {login.where}")


def _apportion(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), exactly."""
    if not weights:
        return []
    weight_sum = sum(weights)
    shares = [total * weight / weight_sum for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - counts[i], reverse=True)
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def _address(position: int) -> tuple[str, str]:
    """Unit and room of the n-th flat of a building: six floors, two flats a floor, 12 per unit."""
    unit = position // 12 + 1
    floor = (position % 12) // 2 + 1
    return str(unit), f"{floor}0{position % 2 + 1}"
