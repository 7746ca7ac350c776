"""On PostgreSQL, refuse UPDATE and DELETE on the audit log below the ORM too.

Two exceptions: deleting a user sets `actor_id` to NULL (the entry keeps `actor_email`),
and a deliberate purge (an organisation leaving, under a retention policy) sets
`portevoix.audit_purge = 'on'` for its transaction."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION organizations_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('portevoix.audit_purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER organizations_audit_append_only
    BEFORE UPDATE OR DELETE ON organizations_auditlogentry
    FOR EACH ROW EXECUTE FUNCTION organizations_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS organizations_audit_append_only ON organizations_auditlogentry;
DROP FUNCTION IF EXISTS organizations_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("organizations", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
