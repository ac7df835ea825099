from django.db import migrations

from grid.default_tags import DEFAULT_TAGS


def add_tags(apps, schema_editor):
    Tag = apps.get_model("grid", "Tag")
    for order, (code, name) in enumerate(DEFAULT_TAGS):
        Tag.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("grid", "0001_initial")]

    operations = [migrations.RunPython(add_tags, migrations.RunPython.noop)]
