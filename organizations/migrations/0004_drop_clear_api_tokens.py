"""API tokens moved from rest_framework.authtoken (the token kept in clear) to
django-rest-knox (a digest only). The clear tokens cannot be converted into anything
safer, so their table goes: people request a new token (README, "API")."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0003_media_unguessable_names"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunSQL(
            "DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop
        ),
    ]
