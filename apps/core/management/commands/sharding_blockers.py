"""What stands between today's schema and a Citus cluster distributed by ``merchant_id``.

Reads PostgreSQL's own catalogue (what the migrations really built, unique indexes with a
condition, triggers and row-level security included), not the models. A table with a
``merchant_id`` column is a candidate for distribution by it (``merchants_merchant`` by its ``id``,
which is the merchant id); the others are reference tables (copied to every node) or stay on the
coordinator. Then, per Citus' rules:

- every primary key and unique index of a distributed table must contain the distribution column;
- a foreign key between two distributed tables must include the distribution column on both sides
  (``(merchant_id, x_id) → (merchant_id, id)``), and one from a distributed table may point to a
  reference table, never the other way round;
- triggers on distributed tables run only with ``citus.enable_unsafe_triggers`` and must not read
  other shards; row-level security policies must be created through Citus so that every shard gets
  them.

``--check`` exits 1 when anything blocks (a CI gate once the migration to Citus has begun).
README.md, "Scaling out", gives the output for today's schema and the plan built on it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

DISTRIBUTION_COLUMN = "merchant_id"
MERCHANT_TABLE = "merchants_merchant"
# Django's own bookkeeping never joins a merchant's rows; Celery beat and the like neither.
COORDINATOR_ONLY = {"django_migrations"}


@dataclass
class Table:
    name: str
    columns: dict[int, str] = field(default_factory=dict)
    rows: int = 0

    @property
    def distribution_column(self) -> str | None:
        if self.name == MERCHANT_TABLE:
            return "id"
        return DISTRIBUTION_COLUMN if DISTRIBUTION_COLUMN in self.columns.values() else None


def _tables() -> dict[str, Table]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, a.attnum, a.attname, c.reltuples::bigint
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            ORDER BY c.relname, a.attnum
            """
        )
        tables: dict[str, Table] = {}
        for name, number, column, rows in cursor.fetchall():
            table = tables.setdefault(name, Table(name=name, rows=max(rows, 0)))
            table.columns[number] = column
    return tables


def _unique_indexes() -> list[tuple[str, str, list[int], bool]]:
    """(table, index, column numbers, partial?) of every unique index, primary keys included."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, x.indkey::int2[], x.indpred IS NOT NULL
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = current_schema() AND x.indisunique
            ORDER BY t.relname, i.relname
            """
        )
        return [(table, index, list(keys), partial) for table, index, keys, partial in cursor]


def _foreign_keys() -> list[tuple[str, str, list[int], str, list[int]]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, c.conname, c.conkey, r.relname, c.confkey
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            JOIN pg_class r ON r.oid = c.confrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = current_schema() AND c.contype = 'f'
            ORDER BY t.relname, c.conname
            """
        )
        return list(cursor.fetchall())


def _triggers_and_policies() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, t.tgname FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND NOT t.tgisinternal
            ORDER BY 1, 2
            """
        )
        triggers: dict[str, list[str]] = defaultdict(list)
        for table, trigger in cursor.fetchall():
            triggers[table].append(trigger)
        cursor.execute(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema()"
            " ORDER BY 1, 2"
        )
        policies: dict[str, list[str]] = defaultdict(list)
        for table, policy in cursor.fetchall():
            policies[table].append(policy)
    return triggers, policies


@dataclass
class Plan:
    distributed: list[Table]
    reference: list[Table]
    coordinator: list[Table]
    blockers: dict[str, list[str]]
    notes: dict[str, list[str]]


def sharding_plan() -> Plan:
    tables = _tables()
    distributed = {name: t for name, t in tables.items() if t.distribution_column}
    referenced_by_distributed: set[str] = set()
    blockers: dict[str, list[str]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)

    for table_name, foreign_key, keys, target_name, target_keys in _foreign_keys():
        table, target = tables[table_name], tables[target_name]
        columns = [table.columns[k] for k in keys]
        if table_name in distributed and target_name in distributed:
            pairs = {
                (table.columns[k], target.columns[t])
                for k, t in zip(keys, target_keys, strict=True)
            }
            if (table.distribution_column, target.distribution_column) not in pairs:
                blockers[table_name].append(
                    f"foreign key {foreign_key} ({', '.join(columns)}) → {target_name} lacks "
                    f"{table.distribution_column} → {target.distribution_column}"
                )
        elif table_name in distributed:
            referenced_by_distributed.add(target_name)
        elif target_name in distributed:
            blockers[table_name].append(
                f"foreign key {foreign_key} ({', '.join(columns)}) → distributed {target_name}: "
                f"give {table_name} a {DISTRIBUTION_COLUMN} and distribute it, or drop the key"
            )

    for table_name, index, keys, partial in _unique_indexes():
        if table_name not in distributed:
            continue
        table = distributed[table_name]
        columns = [table.columns.get(k, "(expression)") for k in keys]
        if table.distribution_column not in columns:
            kind = "primary key" if index.endswith("_pkey") else "unique index"
            blockers[table_name].append(
                f"{kind} {index} ({', '.join(columns)}{', partial' if partial else ''}) lacks "
                f"{table.distribution_column}"
            )

    triggers, policies = _triggers_and_policies()
    for table_name in distributed:
        if triggers.get(table_name):
            notes[table_name].append(
                "triggers "
                + ", ".join(triggers[table_name])
                + ": need citus.enable_unsafe_triggers, and may only read their own shard"
            )
        if policies.get(table_name):
            notes[table_name].append(
                "row-level security policies "
                + ", ".join(policies[table_name])
                + ": create them through Citus (propagated to every shard)"
            )

    others = [t for name, t in sorted(tables.items()) if name not in distributed]
    reference = [
        t for t in others if t.name in referenced_by_distributed and t.name not in COORDINATOR_ONLY
    ]
    coordinator = [t for t in others if t not in reference]
    return Plan(
        distributed=[distributed[name] for name in sorted(distributed)],
        reference=reference,
        coordinator=coordinator,
        blockers=dict(sorted(blockers.items())),
        notes=dict(sorted(notes.items())),
    )


class Command(BaseCommand):
    help = (
        "List the tables and constraints that block distributing the schema by merchant_id (Citus)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="exit 1 when anything blocks distribution"
        )

    def handle(self, *args, check: bool = False, **options) -> None:
        plan = sharding_plan()
        write = self.stdout.write
        write(f"Distributed by merchant_id ({len(plan.distributed)} tables, co-located):")
        for table in plan.distributed:
            write(f"  {table.name} ({table.distribution_column})")
        write(f"Reference tables ({len(plan.reference)}: referenced by distributed tables):")
        for table in plan.reference:
            write(f"  {table.name}")
        write(f"On the coordinator only ({len(plan.coordinator)}):")
        for table in plan.coordinator:
            write(f"  {table.name}")
        count = sum(len(items) for items in plan.blockers.values())
        write(f"Blockers ({count} in {len(plan.blockers)} tables):")
        for table_name, items in plan.blockers.items():
            write(f"  {table_name}")
            for item in items:
                write(f"    - {item}")
        if plan.notes:
            write("To carry over with care:")
            for table_name, items in plan.notes.items():
                for item in items:
                    write(f"  {table_name}: {item}")
        if check and plan.blockers:
            raise SystemExit(1)
