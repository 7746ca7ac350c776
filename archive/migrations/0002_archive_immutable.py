"""On PostgreSQL, refuse UPDATE and DELETE of archived shares and their events below the
ORM too (raw SQL included), as the audit log's trigger does.

No UPDATE ever: a record is written once and hashed into its organisation's chain. DELETE
only by the deliberate purge of the retention job, which sets `portevoix.archive_purge =
'on'` for its transaction, and only for rows past their `retain_until`. TRUNCATE is left
alone, as for the audit log: it needs the table's owner, and the test runner empties
tables with it."""

from django.db import migrations

TABLES = ("archive_archivedshare", "archive_archiveevent")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION archive_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('portevoix.archive_purge', true) = 'on'
       AND OLD.retain_until < current_date THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the archive keeps this row until %%', OLD.retain_until;
    END IF;
    RAISE EXCEPTION 'the archive cannot be changed';
END;
$$ LANGUAGE plpgsql;
"""

CREATE_TRIGGER = """
CREATE TRIGGER {table}_immutable
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION archive_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS {table}_immutable ON {table};
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    for table in TABLES:
        schema_editor.execute(CREATE_TRIGGER.format(table=table))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(DROP.format(table=table))
    schema_editor.execute("DROP FUNCTION IF EXISTS archive_immutable();")


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
