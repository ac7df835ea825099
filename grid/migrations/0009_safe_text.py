"""The text rules of every field people type (issue 6, defects 11 and 12): core.text's
validate_safe_text refuses C0/C1 control characters, ANSI escapes and bidi overrides, and
validate_no_formula a name that starts with =, +, - or @. Validators only: no SQL."""

import core.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grid', '0008_import_dry_run'),
    ]

    operations = [
        migrations.AlterField(
            model_name='grid',
            name='code',
            field=models.CharField(max_length=32, validators=[core.text.validate_safe_text], verbose_name='code'),
        ),
        migrations.AlterField(
            model_name='grid',
            name='colour_reason',
            field=models.CharField(blank=True, max_length=200, validators=[core.text.validate_safe_text], verbose_name='colour reason'),
        ),
        migrations.AlterField(
            model_name='grid',
            name='name',
            field=models.CharField(max_length=64, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='gridpost',
            name='title',
            field=models.CharField(max_length=32, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='title'),
        ),
        migrations.AlterField(
            model_name='household',
            name='care_reason',
            field=models.TextField(blank=True, max_length=500, validators=[core.text.validate_safe_text], verbose_name='care reason'),
        ),
        migrations.AlterField(
            model_name='household',
            name='head_name',
            field=models.CharField(max_length=32, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='head of household'),
        ),
        migrations.AlterField(
            model_name='household',
            name='id_number',
            field=models.CharField(blank=True, max_length=18, validators=[core.text.validate_safe_text], verbose_name='ID number'),
        ),
        migrations.AlterField(
            model_name='household',
            name='phone',
            field=models.CharField(blank=True, max_length=20, validators=[core.text.validate_safe_text], verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='household',
            name='room',
            field=models.CharField(max_length=16, validators=[core.text.validate_safe_text], verbose_name='room'),
        ),
        migrations.AlterField(
            model_name='household',
            name='unit',
            field=models.CharField(blank=True, max_length=16, validators=[core.text.validate_safe_text], verbose_name='unit'),
        ),
        migrations.AlterField(
            model_name='orgnode',
            name='code',
            field=models.CharField(blank=True, max_length=32, validators=[core.text.validate_safe_text], verbose_name='code'),
        ),
        migrations.AlterField(
            model_name='orgnode',
            name='name',
            field=models.CharField(max_length=100, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='orgnode',
            name='place_name',
            field=models.CharField(blank=True, max_length=100, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='place name'),
        ),
        migrations.AlterField(
            model_name='tag',
            name='name',
            field=models.CharField(max_length=32, unique=True, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='name'),
        ),
    ]
