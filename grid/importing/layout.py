"""The workbook format: sheet names, columns and the 说明 sheet.

One definition, used by the reader, the export and the template, so an export can always
be imported again. Sheet names and headers are the format itself (the Chinese a community
already writes in its ledgers), not UI text: they are not translated.
"""

import re
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


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False  # the sheet must have this column
    width: int = 14
    text: bool = False  # stored as text in Excel (leading zeros, 18-digit numbers)
    max_length: int | None = None
    note: str = ""  # for the 说明 sheet


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

    def column(self, key: str) -> Column:
        return self._by_key[key]


TREE = Sheet(
    SHEET_TREE,
    (
        Column("community", "社区", required=True, width=14, max_length=100, note="社区党组织名称，必填"),
        Column("compound", "小区党支部", width=18, max_length=100, note="小区党支部名称，可空"),
        Column("building", "楼栋党小组", width=16, max_length=100, note="楼栋党小组名称，可空"),
        Column("hub", "党员中心户", width=16, max_length=100, note="党员中心户名称，可空"),
    ),
    "每行写一条从社区到下级的路径，右侧各列可以留空（例如只写社区和小区党支部）。"
    "系统按“上级 + 名称”查找已有节点，没有的就新建；同一路径可以出现在多行。"
    "左侧留空而右侧有值是错误。新建社区只有系统管理员可以做。",
)

TREE_LEVELS = ("community", "compound", "building", "hub")

HOUSEHOLDS = Sheet(
    SHEET_HOUSEHOLDS,
    (
        Column("community", "社区", required=True, width=12, max_length=100, note="必填"),
        Column("compound", "小区党支部", required=True, width=16, max_length=100, note="必填"),
        Column(
            "building", "楼栋党小组", required=True, width=14, max_length=100, note="必填；须在“组织架构”表或系统中已有"
        ),
        Column(
            "unit",
            "单元",
            required=True,
            width=8,
            text=True,
            max_length=16,
            note="这一列必须有（地址的一部分），格子可空，例如 1",
        ),
        Column("room", "门牌号", required=True, width=10, text=True, max_length=16, note="必填，例如 101"),
        Column("head_name", "户主姓名", required=True, width=12, max_length=32, note="必填"),
        Column("phone", "联系电话", width=15, text=True, note="11 位手机号或 0471-1234567 形式的座机"),
        Column("id_number", "身份证号", width=22, text=True, note="18 位，末位校验码须正确；请把这一列设为文本格式"),
        Column("resident_count", "居住人数", width=10, note="整数，空着按 1 人"),
        Column("tags", "标签", width=18, note="用“、”或逗号分隔，例如 独居老人、低保户"),
        Column("is_care", "需关爱对象", width=11, note="是 / 否，空着按“否”"),
        Column("care_reason", "关爱原因", width=24, note="需关爱对象为“是”时必填"),
        Column("hub", "党员中心户", width=16, max_length=100, note="可空；须是本楼栋下的党员中心户"),
        Column(
            "address",
            "地址",
            width=28,
            note="导出时写出（小区、楼栋、单元、门牌号，如 阳光小区1号楼2单元502室）；导入时不读这一列",
        ),
    ),
    "一行一户。小区和楼栋可以写党组织名称（阳光小区党支部、1号楼党小组），也可以写地名（阳光小区、1号楼）。"
    "系统按“楼栋 + 单元 + 门牌号”查找在住的居民户：已有的更新，没有的新建；"
    "表中没有列出的居民户保持不变。导出文件中的电话和身份证号是脱敏的（如 138****1234），"
    "再次导入时脱敏的格子保留系统中原有的值；新居民户必须填写完整号码。"
    "可选列整列删去时，已有居民户的这一项保持不变。",
)

GRIDS = Sheet(
    SHEET_GRIDS,
    (
        Column("community", "社区", required=True, width=12, max_length=100, note="必填"),
        Column("code", "网格编码", required=True, width=10, text=True, max_length=32, note="必填，社区内唯一"),
        Column("name", "网格名称", required=True, width=14, max_length=64, note="必填"),
        Column("colour", "颜色", width=8, note="红 / 黄 / 绿（三色管理），空着按“绿”"),
        Column("colour_reason", "颜色原因", width=24, max_length=200, note="红、黄时必填"),
        Column(
            "buildings", "包含楼栋", width=48, note="“小区党支部/楼栋党小组”，多个用“、”分隔；一栋楼只能属于一个网格"
        ),
    ),
    "一行一个网格，按“社区 + 网格编码”查找：已有的更新，没有的新建。"
    "“包含楼栋”列出网格的全部楼栋，从别的网格划过来的楼栋会离开原网格。",
)

POSTS = Sheet(
    SHEET_POSTS,
    (
        Column("community", "社区", required=True, width=12, max_length=100, note="必填"),
        Column(
            "code", "网格编码", required=True, width=10, text=True, max_length=32, note="必填；须在“网格”表或系统中已有"
        ),
        Column(
            "post_type",
            "岗位类型",
            required=True,
            width=10,
            note="A：专职网格员；B：楼栋长、单元长等兼职；C：多网格网格长",
        ),
        Column("title", "岗位名称", required=True, width=14, max_length=32, note="必填，例如 专职网格员"),
        Column("holder", "在岗人员用户名", width=16, note="系统登录用户名；空着表示空岗"),
    ),
    "一行一个网格员岗位。同一网格中“岗位类型 + 岗位名称”相同的岗位按出现顺序对应系统中已有的岗位；"
    "多出来的新建。填写用户名即上岗（获得该网格的网格员权限），空着即空岗。",
)

DATA_SHEETS = (TREE, HOUSEHOLDS, GRIDS, POSTS)
SHEETS_BY_NAME = {sheet.name: sheet for sheet in DATA_SHEETS}

README_LINES = (
    "筑堡工程 · 数据导入模板",
    "",
    "本工作簿有四张数据表：组织架构、居民户、网格、网格员岗位。可以只保留需要的表。",
    "表名和表头不要改动；列的顺序可以调整，多余的列会被忽略。表头上方可以有一两行标题。",
    "导入时先检查全部表格的每一行：只要有一处错误，就什么都不写入，",
    "页面会列出每个错误所在的表、行号（与 Excel 显示的一致）、列和原因。全部正确时，所有数据在一个事务里一次写入。",
    "已有的数据按名称、地址或编码对应后更新，没有的新建；表中没有列出的数据保持不变，导入不会删除任何数据。",
    "电话和身份证号请设成文本格式，避免 Excel 把身份证号变成科学计数法而丢掉末几位。",
    "从系统导出的文件格式相同，可以修改后再导入；其中的电话和身份证号是脱敏的（如 138****1234），导入时保留原值。",
    "",
)


def normalise_header(value) -> str:
    """'  户主姓名* ' → '户主姓名': templates often mark required columns with a star."""
    if value is None:
        return ""
    text = re.sub(r"\s+", "", str(value))
    text = text.replace("*", "").replace("＊", "")
    return re.sub(r"[（(]必填[)）]$", "", text)
