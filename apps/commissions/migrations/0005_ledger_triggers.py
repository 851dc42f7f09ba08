"""Database guarantees of the ledger: journals and entries are immutable, and a transaction that
leaves a journal's entries not summing to zero cannot commit (a deferred constraint trigger)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION commissions_ledger_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER commissions_ledgerentry_immutable
    BEFORE UPDATE OR DELETE ON commissions_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION commissions_ledger_immutable();
CREATE TRIGGER commissions_journal_immutable
    BEFORE UPDATE OR DELETE ON commissions_journal
    FOR EACH ROW EXECUTE FUNCTION commissions_ledger_immutable();

CREATE FUNCTION commissions_journal_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total
        FROM commissions_ledgerentry WHERE journal_id = NEW.journal_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger journal % does not balance (its entries sum to %)',
            NEW.journal_id, total;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER commissions_journal_balanced
    AFTER INSERT ON commissions_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION commissions_journal_balanced();
"""

BACKWARD = """
DROP TRIGGER commissions_journal_balanced ON commissions_ledgerentry;
DROP FUNCTION commissions_journal_balanced();
DROP TRIGGER commissions_journal_immutable ON commissions_journal;
DROP TRIGGER commissions_ledgerentry_immutable ON commissions_ledgerentry;
DROP FUNCTION commissions_ledger_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("commissions", "0004_ledger_guarantees")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
