"""The text rules of every field people type (issue 6, defects 11 and 12): core.text's
validate_safe_text refuses C0/C1 control characters, ANSI escapes and bidi overrides, and
validate_no_formula a name that starts with =, +, - or @. Validators only: no SQL."""

import core.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('liaison', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='workgroup',
            name='name',
            field=models.CharField(max_length=64, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='workteam',
            name='bureau_name',
            field=models.CharField(max_length=64, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='bureau'),
        ),
        migrations.AlterField(
            model_name='workteam',
            name='name',
            field=models.CharField(max_length=64, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='name'),
        ),
    ]
