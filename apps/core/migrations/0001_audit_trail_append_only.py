"""The audit trail (django-auditlog's table) is append-only: PostgreSQL refuses to change or delete
an entry. The one update allowed is the one Django makes when a user is deleted: the entry keeps
its actor's e-mail and loses the foreign key (``actor_id`` set to NULL, nothing else changed)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION core_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
        AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER core_audit_append_only
    BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION core_audit_append_only();
"""

BACKWARD = """
DROP TRIGGER core_audit_append_only ON auditlog_logentry;
DROP FUNCTION core_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("auditlog", "0017_add_actor_email")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
