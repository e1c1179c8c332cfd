"""On PostgreSQL the audit trail refuses UPDATE and DELETE at the database, whatever the code path
(a shell, a raw query, a future view). TRUNCATE, which only the test suite's flush uses, is not
covered. SQLite, the development database, has no such guard: its flush deletes rows."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CREATE = """
CREATE FUNCTION practice_auditentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'practice_auditentry is append-only: %% refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER practice_auditentry_append_only
    BEFORE UPDATE OR DELETE ON practice_auditentry
    FOR EACH ROW EXECUTE FUNCTION practice_auditentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS practice_auditentry_append_only ON practice_auditentry;
DROP FUNCTION IF EXISTS practice_auditentry_append_only();
"""


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("practice", "0005_audit_entry")]

    operations = [migrations.RunPython(create, drop)]
