from django.db import migrations

# The tags communities keep in their ledgers (台账). Names are data, editable in the admin.
DEFAULT_TAGS = [
    ("elderly-alone", "独居老人"),
    ("empty-nest", "空巢老人"),
    ("disabled", "残疾人"),
    ("low-income", "低保户"),
    ("special-hardship", "特困人员"),
    ("veteran", "退役军人"),
    ("left-behind-child", "留守儿童"),
    ("serious-illness", "大病患者"),
    ("party-member", "党员户"),
]


def add_tags(apps, schema_editor):
    Tag = apps.get_model("grid", "Tag")
    for order, (code, name) in enumerate(DEFAULT_TAGS):
        Tag.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("grid", "0001_initial")]

    operations = [migrations.RunPython(add_tags, migrations.RunPython.noop)]
