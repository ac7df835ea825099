"""The text rules of every field people type (issue 6, defects 11 and 12): core.text's
validate_safe_text refuses C0/C1 control characters, ANSI escapes and bidi overrides, and
validate_no_formula a name that starts with =, +, - or @. Validators only: no SQL."""

import core.text
import django.contrib.auth.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_user_password_change'),
    ]

    operations = [
        migrations.AlterField(
            model_name='department',
            name='name',
            field=models.CharField(max_length=64, unique=True, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='user',
            name='email',
            field=models.EmailField(blank=True, max_length=254, validators=[core.text.validate_safe_text], verbose_name='email address'),
        ),
        migrations.AlterField(
            model_name='user',
            name='full_name',
            field=models.CharField(blank=True, max_length=64, validators=[core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='full name'),
        ),
        migrations.AlterField(
            model_name='user',
            name='phone',
            field=models.CharField(blank=True, max_length=20, validators=[core.text.validate_safe_text], verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='user',
            name='username',
            field=models.CharField(error_messages={'unique': 'A user with that username already exists.'}, help_text='Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only; it cannot start with @, + or -.', max_length=150, unique=True, validators=[django.contrib.auth.validators.UnicodeUsernameValidator(), core.text.validate_safe_text, core.text.validate_no_formula], verbose_name='username'),
        ),
    ]
