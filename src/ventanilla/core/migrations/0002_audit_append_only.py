"""Make the audit table append-only inside PostgreSQL too (UPDATE and DELETE raise).

Not on SQLite: whoever holds the embedded database file can change it anyway, and Django's test flush
deletes rows there; the hash chain is what detects tampering in both cases. TRUNCATE stays possible on
PostgreSQL for the same test flush; it needs table ownership, which the application role should not have.
"""

from django.db import migrations

POSTGRES_UP = [
    "CREATE OR REPLACE FUNCTION core_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$;",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON core_auditentry "
    "FOR EACH ROW EXECUTE FUNCTION core_audit_append_only();",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS audit_append_only ON core_auditentry;",
    "DROP FUNCTION IF EXISTS core_audit_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP}),
            _run({"postgresql": POSTGRES_DOWN}),
        )
    ]
