"""The trigger's "today" becomes the UTC date, as the ORM's guard (archive_today): both
agree whatever the session's time zone."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION archive_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('portevoix.archive_purge', true) = 'on'
       AND OLD.retain_until < {today} THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the archive keeps this row until %%', OLD.retain_until;
    END IF;
    RAISE EXCEPTION 'the archive cannot be changed';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION.format(today="(now() AT TIME ZONE 'UTC')::date"))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION.format(today="current_date"))


class Migration(migrations.Migration):
    dependencies = [("archive", "0003_export_claim_retention_checkpoint")]

    operations = [migrations.RunPython(forwards, backwards)]
