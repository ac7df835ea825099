"""Build the ledger fixtures of tests/grid/test_ledgers.py, and their LibreOffice Calc re-saves.

Each ledger is written twice:

- ``<name>.openpyxl.xlsx``: built here with openpyxl, the way the tests build workbooks;
- ``<name>.libreoffice.xlsx``: that file opened and saved again as .xlsx by LibreOffice Calc
  (``soffice --headless --convert-to xlsx``), as a community that edits its ledger in Calc
  (or WPS, which writes the same way) sends it. LibreOffice writes its own XML: shared
  strings, its styles, numbers as it stores them, a ``<dimension>``, merged ranges, the
  cached result of a formula.

The ledgers (the ``org`` world of tests/conftest.py: 北苑社区 with 阳光小区党支部/1号楼党小组
and 和平小区党支部/2号楼党小组):

- ``community``: 居民户 as a community keeps it: a title row merged across, header words of its
  own (序号, 小区, 楼栋, 房号, 户主, 手机号, 身份证号码, 居住人数（人）, 需关爱对象（是/否）, 备注),
  社区/小区/楼栋 merged down the rows they cover, rooms, units and phones typed as numbers, and a
  合计 row with a SUM formula.
- ``standard``: the portal's four sheets (组织架构, 居民户, 网格, 网格员岗位) plus 说明, with a
  hidden old copy of 居民户 (``居民户 ``, trailing space) after the visible one, and units and
  rooms typed as numbers.
- ``two_row_header``: 居民户 with a two-row header: 地址 and 联系方式 merged across the columns
  they group, the other headers merged down both rows, 手机/座机 under 联系方式, then a 小计 row.

Run it after changing what a ledger holds (needs LibreOffice: apt-get install
libreoffice-calc-nogui; CI does not, it uses the committed files):

    .venv/bin/python tests/grid/ledgers/make_ledgers.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhubao.settings.dev")

import django  # noqa: E402

django.setup()

from openpyxl import Workbook  # noqa: E402
from openpyxl.styles import Alignment, Font  # noqa: E402

from grid.importing.layout import GRIDS, HOUSEHOLDS, POSTS, README_LINES, SHEET_README, TREE  # noqa: E402
from grid.models import id_number_check_character  # noqa: E402


def id_number(n: int) -> str:
    body = f"15010219{60 + n}0{n % 9 + 1}1{n}00"[:17].ljust(17, "0")
    return body + id_number_check_character(body)


def community(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "居民户"
    header = [
        "序号",
        "社区",
        "小区",
        "楼栋",
        "单元",
        "房号",
        "户主",
        "手机号",
        "身份证号码",
        "居住人数（人）",
        "需关爱对象（是/否）",
        "关爱原因",
        "备注",
    ]
    sheet.append(["北苑社区居民户台账（2026年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(header)
    rows = [
        [1, "北苑社区", "阳光小区", "1号楼", 1, 301, "钱进", 13900003301, id_number(1), 3, "否", None, None],
        [2, None, None, None, 1, 302, "孙华", 13900003302, id_number(2), 1, "是", "独居，腿脚不便", "独居"],
        [3, None, None, None, 2, 401, "周红梅", 13900003401, id_number(3), 2, "否", None, None],
        [4, None, None, None, 2, 402, "吴敏", 13900003402, id_number(4), 4, "否", None, "新搬来"],
        [5, None, "和平小区", "2号楼", 1, 501, "郑强", 13900003501, id_number(5), 2, "否", None, None],
        [6, None, None, None, 1, 502, "冯丽", "0471-5123456", id_number(6), 1, "是", "空巢老人", None],
    ]
    for row in rows:
        sheet.append(row)
    sheet.append(["合计", None, None, None, None, None, None, None, None, "=SUM(J3:J8)", None, None, None])
    for cells in ("B3:B8", "C3:C6", "D3:D6", "C7:C8", "D7:D8"):
        sheet.merge_cells(cells)
    sheet.column_dimensions["I"].width = 22
    book.save(path)


def standard(path: Path) -> None:
    book = Workbook()
    readme = book.active
    readme.title = SHEET_README
    for line in README_LINES:
        readme.append([line])
    tree = book.create_sheet(TREE.name)
    tree.append(TREE.headers)
    tree.append(["北苑社区", "阳光小区党支部", "3号楼党小组", "周红梅中心户"])
    households = book.create_sheet(HOUSEHOLDS.name)
    households.append(HOUSEHOLDS.headers)
    households.append(
        ["北苑社区", "阳光小区党支部", "3号楼党小组", 2, 202, "周红梅", "13900002202", id_number(7), 2]
        + ["独居老人", "是", "独居，腿脚不便", "周红梅中心户", "阳光小区3号楼2单元202室"]
    )
    households.append(
        ["北苑社区", "阳光小区党支部", "3号楼党小组", 2, 203, "吴立", "0471-5123457", id_number(8), 3]
        + ["", "否", "", "", "阳光小区3号楼2单元203室"]
    )
    stale = book.create_sheet(HOUSEHOLDS.name + " ")
    stale.append(HOUSEHOLDS.headers)
    stale.append(["北苑社区", "阳光小区党支部", "3号楼党小组", 2, 202, "旧户主", "13900009999", id_number(9), 5])
    stale.sheet_state = "hidden"
    grids = book.create_sheet(GRIDS.name)
    grids.append(GRIDS.headers)
    grids.append(["北苑社区", "03", "第三网格", "黄", "老旧管网", "阳光小区党支部/3号楼党小组"])
    posts = book.create_sheet(POSTS.name)
    posts.append(POSTS.headers)
    posts.append(["北苑社区", "03", "A", "专职网格员", ""])
    posts.append(["北苑社区", "03", "B", "楼栋长", ""])
    book.save(path)


def two_row_header(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "居民户"
    sheet.append(["社区", "地址", None, None, None, "户主姓名", "联系方式", None, "身份证号"])
    sheet.append([None, "小区", "楼栋", "单元", "门牌号", None, "手机", "座机", None])
    for cells in ("A1:A2", "B1:E1", "F1:F2", "G1:H1", "I1:I2"):
        sheet.merge_cells(cells)
    sheet.append(["北苑社区", "阳光小区", "1号楼", "1", "601", "陈立", "13900006601", None, id_number(10)])
    sheet.append(["北苑社区", "阳光小区", "1号楼", "1", "602", "林芳", "13900006602", "0471-5000001", id_number(11)])
    sheet.append(["北苑社区", "和平小区", "2号楼", "3", "101", "高山", "13900006101", None, id_number(12)])
    sheet.append(["小计", None, None, None, None, "3户", None, None, None])
    book.save(path)


LEDGERS = {"community": community, "standard": standard, "two_row_header": two_row_header}


def libreoffice_resave(source: Path, target: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit(
            "LibreOffice is not installed: apt-get install -y --no-install-recommends libreoffice-calc-nogui"
        )
    with tempfile.TemporaryDirectory() as folder:
        profile = Path(folder) / "profile"
        out = Path(folder) / "out"
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "xlsx:Calc MS Excel 2007 XML",
                "--outdir",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        shutil.copyfile(out / source.name, target)


def main() -> None:
    for name, build in LEDGERS.items():
        built = HERE / f"{name}.openpyxl.xlsx"
        build(built)
        libreoffice_resave(built, HERE / f"{name}.libreoffice.xlsx")
        print(f"{built.name} and {name}.libreoffice.xlsx written")


if __name__ == "__main__":
    main()
