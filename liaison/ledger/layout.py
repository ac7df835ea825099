"""The ledger's format: one sheet, its columns, the 说明 lines. Used by the export, the template and the import,
so an export always imports back. Sheet names and headers are the format (the Chinese the teams write in
their own ledgers), not UI text: they are not translated.
"""

from grid.importing.layout import Column, Sheet

SHEET_LEDGER = "包联台账"
# The template's example rows name this work group: the reader skips them (grid.importing.reader), so the
# template uploaded unchanged writes nothing.
EXAMPLE_GROUP = "示例工作组"
ENDS_ON_NOTE = "结束日期是不再包联的第一天（当天起不再包联）；空着表示包联仍在继续"

LEDGER = Sheet(
    SHEET_LEDGER,
    (
        Column(
            "work_group",
            "工作组",
            required=True,
            width=14,
            max_length=64,
            note="必填；本工作队的工作组名称",
            synonyms=("工作组名称", "所在工作组", "所属工作组"),
        ),
        Column(
            "cadre",
            "包联干部",
            required=True,
            width=18,
            max_length=100,
            note="必填；写登录用户名、姓名，或“姓名（用户名）”；须是该工作组在起始日期的成员",
            synonyms=("干部", "包联人", "包联干部姓名", "干部姓名", "包联干部用户名", "包联责任人"),
        ),
        Column(
            "building",
            "楼栋",
            width=22,
            max_length=100,
            note="包联的楼栋或党员中心户，按本社区里的叫法写：阳光小区1号楼、阳光小区/1号楼，"
            "或在本社区只有一个时只写 1号楼；党员中心户写“阳光小区1号楼/张建国中心户”。包联单户时可空",
            synonyms=("包联楼栋", "楼栋党小组", "楼号", "所在楼栋", "楼栋或中心户"),
        ),
        Column(
            "household",
            "居民户",
            width=28,
            max_length=100,
            note="包联整栋楼时空着；包联单户时写地址，如 阳光小区1号楼2单元502室（楼栋一列已写时也可只写 2单元502室）",
            synonyms=("包联居民户", "包联户", "居民户地址", "住户"),
        ),
        Column(
            "starts_on",
            "起始日期",
            required=True,
            width=12,
            note="必填；日期格式，或写 2026-03-01、2026/3/1、2026年3月1日（年份在前，用半角数字）",
            synonyms=("开始日期", "起始时间", "开始时间", "包联日期", "起始日"),
        ),
        Column(
            "ends_on",
            "结束日期",
            width=12,
            note=ENDS_ON_NOTE + "；格式同起始日期。给已有的、仍在继续的包联写上结束日期，导入即结束该包联",
            synonyms=("结束时间", "截止日期", "终止日期", "结束日"),
        ),
    ),
    "一行一条干部包联（楼栋、党员中心户或单户）。按“包联干部 + 楼栋或居民户 + 起始日期”对应已有的包联："
    "已有且相同的行不变；已有、仍在继续的包联写了结束日期的，导入即结束它；没有的新建。"
    "表中没有列出的包联保持不变，导入不会删除任何包联。",
)

SHEETS = (LEDGER,)

README_LINES = (
    "筑堡工程 · 包联台账",
    "",
    "本工作簿只有一张数据表：包联台账（干部与楼栋、党员中心户、居民户的包联）。隐藏的表不会被读取。",
    "表名不要改动；列的顺序可以调整，常见的表头写法也能识别；认不出的列不读取，检查结果会列出它们。",
    "每次导入都先检查：页面列出将新建、将结束和不变的包联，以及每个错误所在的表、行号、列和原因。"
    "只要有一处错误就不能确认；确认之前什么都不写入，确认后在一个事务里一次写入。",
    ENDS_ON_NOTE + "。",
    "请把起始日期、结束日期设成日期格式，或写成 2026-03-01 这样年份在前的文字。",
    f"模板中的示例行属于虚构的“{EXAMPLE_GROUP}”，导入时不读取；请在它们下面写自己的数据，或删掉它们。",
    "",
)
