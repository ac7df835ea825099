"""The workbook format: sheet names, columns and the 说明 sheet.

One definition, used by the reader, the export and the template, so an export can always
be imported again. Sheet names and headers are the format itself (the Chinese a community
already writes in its ledgers), not UI text: they are not translated.

Each column keeps beside it the other headers people write for it in their own ledgers
(``synonyms``: 手机号 for 联系电话, 户主 for 户主姓名); a header is matched after
``normalise_header`` (spaces, stars, full-width forms and bracketed remarks such as
（人）/(必填) removed), and no normalised name may stand for two columns of one sheet
(a test checks the whole layout).
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

SHEET_README = "说明"
SHEET_TREE = "组织架构"
SHEET_HOUSEHOLDS = "居民户"
SHEET_GRIDS = "网格"
SHEET_POSTS = "网格员岗位"

# Separators inside one cell: tags (独居老人、低保户) and a grid's buildings.
LIST_SEPARATORS = re.compile(r"[、,，;；\n\r]+")
# Between compound and building in a grid's building list: 阳光小区党支部/1号楼党小组.
PATH_SEPARATORS = re.compile(r"\s*[/／]\s*")

YES = "是"
NO = "否"
COLOUR_WORDS = {"红": "red", "黄": "yellow", "绿": "green"}
COLOUR_ALIASES = {"红色": "红", "黄色": "黄", "绿色": "绿"}
COLOUR_NAMES = {value: word for word, value in COLOUR_WORDS.items()}
POST_TYPES = ("A", "B", "C")
# What an export writes for a care reason the user may not see; an import keeps the stored
# reason where it finds a masked cell (core.masking.is_masked), like a masked phone number.
CARE_REASON_MASK = "******"
# The community of the template's example rows: obviously fictional, and rows naming it are
# skipped by the reader, so importing the template unchanged changes nothing.
EXAMPLE_COMMUNITY = "示例社区"
# A cell holding exactly this (or it in brackets) clears the stored value; a blank cell
# leaves the stored value as it is.
CLEAR_MARKER = "清空"
CLEAR_MARKERS = frozenset({CLEAR_MARKER, f"（{CLEAR_MARKER}）", f"({CLEAR_MARKER})"})
# A cell of a totals row: 合计, 总计：, 小计（户） …
TOTALS_WORD = re.compile(r"^(?:合计|总计|小计|共计|总数)(?:[:(].*)?$")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False  # the sheet must have this column
    width: int = 14
    text: bool = False  # stored as text in Excel (leading zeros, 18-digit numbers)
    max_length: int | None = None
    note: str = ""  # for the 说明 sheet
    synonyms: tuple[str, ...] = ()  # other headers people write for this column
    export_only: bool = False  # written by the export for people to read; the import never reads it

    @property
    def names(self) -> tuple[str, ...]:
        """Every normalised header that means this column, the format's own first."""
        names = [normalise_header(self.header)]
        for synonym in self.synonyms:
            name = normalise_header(synonym)
            if name not in names:
                names.append(name)
        return tuple(names)


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    note: str

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    @cached_property
    def _by_key(self) -> dict[str, Column]:
        return {column.key: column for column in self.columns}

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        """Normalised header → column (the first column naming it; the layout test keeps them unique)."""
        by_name: dict[str, Column] = {}
        for column in self.columns:
            for name in column.names:
                by_name.setdefault(name, column)
        return by_name

    @property
    def header_names(self) -> dict[str, Column]:
        """Every normalised header of the sheet's columns, synonyms included."""
        return self._by_name

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def column_for(self, header) -> Column | None:
        """The column a header cell names (after ``normalise_header``), or None."""
        return self._by_name.get(normalise_header(header))

    def is_header_word(self, value) -> bool:
        """True for a cell that reads as one of this sheet's headers (a sub-header row holds such words)."""
        return isinstance(value, str) and normalise_header(value) in self._by_name


TREE = Sheet(
    SHEET_TREE,
    (
        Column(
            "community",
            "社区",
            required=True,
            width=14,
            max_length=100,
            note="社区党组织名称，必填",
            synonyms=("社区名称", "社区党组织", "社区党委"),
        ),
        Column(
            "compound",
            "小区党支部",
            width=18,
            max_length=100,
            note="小区党支部名称，可空",
            synonyms=("小区", "小区名称", "小区党组织"),
        ),
        Column(
            "building",
            "楼栋党小组",
            width=16,
            max_length=100,
            note="楼栋党小组名称，可空",
            synonyms=("楼栋", "楼号", "楼栋号"),
        ),
        Column("hub", "党员中心户", width=16, max_length=100, note="党员中心户名称，可空", synonyms=("中心户",)),
    ),
    "每行写一条从社区到下级的路径，右侧各列可以留空（例如只写社区和小区党支部）。"
    "系统按“上级 + 名称”查找已有节点，没有的就新建；同一路径可以出现在多行。"
    "左侧留空而右侧有值是错误。新建社区只有系统管理员可以做。",
)

TREE_LEVELS = ("community", "compound", "building", "hub")

HOUSEHOLDS = Sheet(
    SHEET_HOUSEHOLDS,
    (
        Column(
            "community",
            "社区",
            required=True,
            width=12,
            max_length=100,
            note="必填",
            synonyms=("社区名称", "所属社区", "社区党组织"),
        ),
        Column(
            "compound",
            "小区党支部",
            required=True,
            width=16,
            max_length=100,
            note="必填",
            synonyms=("小区", "小区名称", "所属小区", "小区党组织"),
        ),
        Column(
            "building",
            "楼栋党小组",
            required=True,
            width=14,
            max_length=100,
            note="必填；须在“组织架构”表或系统中已有",
            synonyms=("楼栋", "楼号", "楼栋号", "栋号", "楼宇", "所在楼栋"),
        ),
        Column(
            "unit",
            "单元",
            required=True,
            width=8,
            text=True,
            max_length=16,
            note="这一列必须有（地址的一部分），格子可空，例如 1；请设为文本格式",
            synonyms=("单元号",),
        ),
        Column(
            "room",
            "门牌号",
            required=True,
            width=10,
            text=True,
            max_length=16,
            note="必填，例如 101；请设为文本格式（否则 5-02 会被变成日期）",
            synonyms=("门牌", "房号", "室", "室号", "房间号", "门牌号码", "房屋号"),
        ),
        Column(
            "head_name",
            "户主姓名",
            required=True,
            width=12,
            max_length=32,
            note="必填",
            synonyms=("户主", "姓名", "户主名"),
        ),
        Column(
            "phone",
            "联系电话",
            width=15,
            text=True,
            note="11 位手机号或 0471-1234567 形式的座机；空着保留原值，写“清空”清除",
            synonyms=("电话", "手机", "手机号", "手机号码", "电话号码", "联系方式", "联系手机", "移动电话"),
        ),
        Column(
            "id_number",
            "身份证号",
            width=22,
            text=True,
            note="18 位，末位校验码须正确；请把这一列设为文本格式；空着保留原值，写“清空”清除",
            synonyms=("身份证", "身份证号码", "公民身份号码", "公民身份证号码", "证件号码"),
        ),
        Column(
            "resident_count",
            "居住人数",
            width=10,
            note="整数；新居民户空着按 1 人，已有居民户空着保留原值",
            synonyms=("人数", "家庭人数", "户内人数", "在住人数", "常住人数", "居住人口"),
        ),
        Column(
            "tags",
            "标签",
            width=18,
            note="用“、”或逗号分隔，例如 独居老人、低保户；空着保留原有标签，写“清空”去掉全部标签",
            synonyms=("人员标签", "户标签"),
        ),
        Column(
            "is_care",
            "需关爱对象",
            width=11,
            note="是 / 否；新居民户空着按“否”，已有居民户空着保留原值",
            synonyms=("是否需关爱", "需关爱", "是否需关爱对象", "关爱对象", "是否关爱对象"),
        ),
        Column(
            "care_reason",
            "关爱原因",
            width=24,
            note="需关爱对象为“是”时必填；空着保留原值，写“清空”清除",
            synonyms=("需关爱原因",),
        ),
        Column(
            "hub",
            "党员中心户",
            width=16,
            max_length=100,
            note="可空；须是本楼栋下的党员中心户；空着保留原值，写“清空”解除",
            synonyms=("中心户", "所属中心户", "所属党员中心户"),
        ),
        Column(
            "address",
            "地址",
            width=28,
            note="导出时写出（小区、楼栋、单元、门牌号，如 阳光小区1号楼2单元502室）；导入时不读这一列",
            synonyms=("住址", "家庭住址", "详细地址"),
            export_only=True,
        ),
    ),
    "一行一户。小区和楼栋可以写党组织名称（阳光小区党支部、1号楼党小组），也可以写地名（阳光小区、1号楼）。"
    "系统按“楼栋 + 单元 + 门牌号”查找在住的居民户：已有的更新，没有的新建；"
    "表中没有列出的居民户保持不变。空白格子保留已有居民户的原值，写“清空”才清除一个已存的值。"
    "导出文件中的电话和身份证号是脱敏的（如 138****1234），"
    "再次导入时脱敏的格子保留系统中原有的值；新居民户必须填写完整号码。"
    "可选列整列删去时，已有居民户的这一项保持不变。",
)

GRIDS = Sheet(
    SHEET_GRIDS,
    (
        Column("community", "社区", required=True, width=12, max_length=100, note="必填", synonyms=("社区名称",)),
        Column(
            "code",
            "网格编码",
            required=True,
            width=10,
            text=True,
            max_length=32,
            note="必填，社区内唯一；请设为文本格式（01 不要变成 1）",
            synonyms=("网格编号", "网格号", "编码", "编号"),
        ),
        Column("name", "网格名称", required=True, width=14, max_length=64, note="必填", synonyms=("网格名",)),
        Column(
            "colour",
            "颜色",
            width=8,
            note="红 / 黄 / 绿（三色管理）；新网格空着按“绿”，已有网格空着保持原色",
            synonyms=("网格颜色", "三色"),
        ),
        Column("colour_reason", "颜色原因", width=24, max_length=200, note="红、黄时必填", synonyms=("颜色说明",)),
        Column(
            "buildings",
            "包含楼栋",
            width=48,
            note="“小区党支部/楼栋党小组”，多个用“、”分隔；一栋楼只能属于一个网格；"
            "空着保留网格现有的楼栋，写“清空”移出全部楼栋",
            synonyms=("楼栋", "所辖楼栋", "管辖楼栋", "网格楼栋"),
        ),
    ),
    "一行一个网格，按“社区 + 网格编码”查找：已有的更新，没有的新建。"
    "“包含楼栋”列出网格的全部楼栋，从别的网格划过来的楼栋会离开原网格；"
    "“包含楼栋”空着保留网格现有的楼栋，写“清空”移出全部楼栋。试运行会列出楼栋有变化的网格。",
)

POSTS = Sheet(
    SHEET_POSTS,
    (
        Column("community", "社区", required=True, width=12, max_length=100, note="必填", synonyms=("社区名称",)),
        Column(
            "code",
            "网格编码",
            required=True,
            width=10,
            text=True,
            max_length=32,
            note="必填；须在“网格”表或系统中已有",
            synonyms=("网格编号", "网格号", "网格"),
        ),
        Column(
            "post_type",
            "岗位类型",
            required=True,
            width=10,
            note="A：专职网格员；B：楼栋长、单元长等兼职；C：多网格网格长",
            synonyms=("类型",),
        ),
        Column(
            "title",
            "岗位名称",
            required=True,
            width=14,
            max_length=32,
            note="必填，例如 专职网格员",
            synonyms=("岗位",),
        ),
        Column(
            "holder",
            "在岗人员用户名",
            width=16,
            note="系统登录用户名；空着保留现在的在岗人员，写“清空”即空岗",
            synonyms=("用户名", "登录用户名", "网格员用户名"),
        ),
    ),
    "一行一个网格员岗位。同一网格中“岗位类型 + 岗位名称”相同的岗位按出现顺序对应系统中已有的岗位；"
    "多出来的新建。“在岗人员用户名”空着保留现在的在岗人员；填写用户名即让此人上岗"
    "（获得该网格的网格员权限），试运行会列出哪些岗位将从谁手中换人；写“清空”即空岗。",
)

DATA_SHEETS = (TREE, HOUSEHOLDS, GRIDS, POSTS)
SHEETS_BY_NAME = {sheet.name: sheet for sheet in DATA_SHEETS}

README_LINES = (
    "筑堡工程 · 数据导入模板",
    "",
    "本工作簿有四张数据表：组织架构、居民户、网格、网格员岗位。可以只保留需要的表。隐藏的表不会被读取。",
    "表名不要改动；列的顺序可以调整。常见的表头写法（如 手机号、身份证号码、居住人数（人））也能识别；"
    "认不出的列不读取，检查结果会列出它们。",
    "表头上方可以有标题行，表头也可以占两行；合并的单元格按它的值读入它覆盖的每一行；合计、小计行不读取。",
    "每次导入都先检查并试运行：页面列出每张表将新建、更新、不变和有错误的行，"
    "以及会让岗位换人、改变网格楼栋、清空已存数据的行，和没有读取的表、列、行。确认之前什么都不写入。",
    "只要有一处错误就不能确认：页面会列出每个错误所在的表、行号（与 Excel 显示的一致）、列和原因。"
    "确认后，所有数据在一个事务里一次写入。",
    "已写入的导入在 24 小时内可以由确认它的人撤销。",
    "已有的数据按名称、地址或编码对应后更新，没有的新建；表中没有列出的数据保持不变，导入不会删除任何数据。",
    "空白格子保留系统中已存的值；要清除一个已存的值，请在格子里写“清空”（可以清空的列见下表）。",
    "请把单元、门牌号、电话、身份证号、网格编码这些列设成文本格式：否则 Excel 会把 5-02 变成日期，"
    "把身份证号变成科学计数法而丢掉末几位，把网格编码 01 变成 1。",
    "从系统导出的文件格式相同，可以修改后再导入；其中的电话和身份证号是脱敏的（如 138****1234），导入时保留原值。",
    f"模板中的示例行属于虚构的“{EXAMPLE_COMMUNITY}”，导入时不读取；请在它们下面写自己的数据，或删掉它们。",
    "",
)

_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
# A remark in brackets: （人）, (必填), 【是/否】, [必填] …
_REMARK = re.compile(r"\([^()]*\)|【[^【】]*】|\[[^\[\]]*\]|〔[^〔〕]*〕")
_MARKS = re.compile(r"[*:※]+")


def normalise_header(value) -> str:
    """'  户主姓名* ' → '户主姓名', '联系电话（手机）' → '联系电话', '居住人数(人)' → '居住人数'.

    Full-width forms become half-width (NFKC), then spaces, stars, colons and bracketed
    remarks go: templates mark required columns with a star or （必填）, and ledgers add a
    unit or the allowed values in brackets.
    """
    if value is None:
        return ""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(value)))
    text = _REMARK.sub("", text)
    return _MARKS.sub("", text)


def normalise_sheet_name(name: str) -> str:
    """A sheet name as the reader matches it: '居民户 ' and '　居民户' are '居民户'."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name or ""))


_SHEETS_BY_KEY = {normalise_sheet_name(sheet.name): sheet for sheet in DATA_SHEETS}


def sheet_for_name(name: str) -> Sheet | None:
    """The data sheet a workbook's sheet name means, after ``normalise_sheet_name``."""
    return _SHEETS_BY_KEY.get(normalise_sheet_name(name))


def is_readme_name(name: str) -> bool:
    return normalise_sheet_name(name) == normalise_sheet_name(SHEET_README)


def is_clear_marker(value) -> bool:
    """True for a cell that asks to clear the stored value: 清空, （清空） or (清空)."""
    return isinstance(value, str) and _SPACES.sub("", value) in CLEAR_MARKERS


def is_totals_word(value) -> bool:
    """True for a cell that marks a totals row: 合计, 总 计, 小计：, 合计（户） …"""
    if not isinstance(value, str) or "计" not in value and "总数" not in value:
        return False
    return bool(TOTALS_WORD.match(_SPACES.sub("", unicodedata.normalize("NFKC", value))))
