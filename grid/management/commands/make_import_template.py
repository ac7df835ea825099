"""Write the import template workbook shipped with the portal (grid/import_template/).

    python manage.py make_import_template [--output PATH]

Run it after changing the workbook format (grid/importing/layout.py) and commit the file.
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from grid.exporting import TEMPLATE_PATH, write_template


class Command(BaseCommand):
    help = "Write the Excel template for imports (说明 + 组织架构, 居民户, 网格, 网格员岗位 with examples)."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(TEMPLATE_PATH), help="Where to write the .xlsx file.")

    def handle(self, *args, output, **options):
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_template(path)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))
