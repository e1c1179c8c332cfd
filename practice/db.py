"""Database pieces shared by the apps."""

from __future__ import annotations

import itertools
import re
import weakref
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import connection
from django.db.models import Field, Func, Model
from django.utils import timezone


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL, and nothing elsewhere.

    The embedded SQLite default cannot express it; there the service that writes runs its check
    inside an IMMEDIATE transaction instead (writers are serialised), so the rule still holds.
    """

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor is None or schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor is None or schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor is None or schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model: Any, instance: Any, exclude: Any = None, using: str = "default") -> None:
        from django.db import connections

        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


# simple-history's own columns; every other column of a historical model copies the model's.
_HISTORY_COLUMNS = ("history_id", "history_date", "history_change_reason", "history_type", "history_user_id")


@cache
def _insert_with_history_sql(model: type[Model]) -> tuple[str, list[Field[Any, Any]]]:
    """INSERT of `model` and of its simple-history "+" row in one statement, and the fields whose
    values it takes, in order. Built once per process from the models' metadata; only table and
    column names are formatted in, every value is a parameter."""

    def quote(name: str | None) -> str:
        return connection.ops.quote_name(str(name))

    history = model.history.model  # type: ignore[attr-defined]
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = {field.attname: field.column for field in model._meta.concrete_fields}
    copied = [field for field in history._meta.concrete_fields if field.column not in _HISTORY_COLUMNS]
    unknown = [field.attname for field in copied if field.attname not in columns]
    if unknown:
        raise TypeError(f"{history.__name__} has columns {unknown} that {model.__name__} does not")
    sql = (
        f"WITH row AS (INSERT INTO {quote(model._meta.db_table)}"  # noqa: S608 (names only)
        f" ({', '.join(quote(field.column) for field in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING *),"
        f" history AS (INSERT INTO {quote(history._meta.db_table)}"
        f" ({', '.join(quote(field.column) for field in copied)},"
        " history_date, history_change_reason, history_type, history_user_id)"
        f" SELECT {', '.join(quote(columns[field.attname]) for field in copied)}, %s, %s, '+', %s FROM row)"
        f" SELECT {quote(model._meta.pk.column)} FROM row"
    )
    return sql, fields


def insert_with_history(instance: Model) -> None:
    """Save a new `instance` and write its simple-history "+" row, as `instance.save()` does.

    On PostgreSQL both rows go in one statement: the ORM's save and simple-history's signal cost
    a booking more than its whole budget. Elsewhere this is `instance.save()`. The history row
    has the user (`instance._history_user`, else the request's) and change reason
    (`instance._change_reason`) simple-history would record. No save signal is sent, so the model must have no receiver but history's;
    tests/practice/test_insert_with_history.py holds the two paths to the same rows.
    """
    if (
        connection.vendor != "postgresql"
        or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
        or hasattr(instance, "skip_history_when_saving")
    ):
        instance.save()
        return
    sql, fields = _insert_with_history_sql(type(instance))
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    # simple-history's own lookup: `_history_user`, else the request's user (its middleware).
    user = type(instance).history.model.get_default_history_user(instance)  # type: ignore[attr-defined]
    reason = getattr(instance, "_change_reason", None)
    history_date = getattr(instance, "_history_date", None) or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, history_date, reason, None if user is None else user.pk])
        (instance.pk,) = cursor.fetchone()
    instance._state.adding = False
    instance._state.db = connection.alias


# Each connection's prepared statements: the names each (statements, parameter types) went under.
_prepared: weakref.WeakKeyDictionary[Any, dict[Any, list[str]]] = weakref.WeakKeyDictionary()
_prepared_names = itertools.count()


def execute_prepared(
    cursor: Any, statements: tuple[str, ...], parameters: tuple[tuple[str, str], ...], params: dict[str, Any]
) -> None:
    """Run `statements` (PostgreSQL text with $1, $2 ... numbered as `parameters`, each a (name,
    type)) as prepared statements of this connection, with `params` by name, in one round trip;
    the cursor is left on the first statement's rows.

    The first batch on a connection prepares them (PREPARE ... AS, then EXECUTE, still one round
    trip); every later one only EXECUTEs them, so PostgreSQL neither parses nor plans them again
    (0.6-0.7 ms of a one-surgeon-day search). SQL-level PREPARE rather than psycopg's protocol
    level: Django's cursors bind parameters client-side (several statements in one round trip,
    counted as one query), and those never prepare. A prepared statement outlives a rolled-back
    transaction, so a batch that succeeded has them for the connection's life; one that failed
    is prepared afresh under new names next time. (Not for a pooler in transaction mode, which
    hands the session's statements to other clients: it would need protocol-level preparing.)"""
    known = _prepared.setdefault(connection.connection, {})
    key = (statements, parameters)
    names = known.get(key)
    prepares = ""
    if names is None:
        attempt = next(_prepared_names)
        names = [f"practice_prepared_{attempt}_{index}" for index in range(len(statements))]
        types = ", ".join(kind for _, kind in parameters)
        prepares = (
            "; ".join(
                f"PREPARE {name} ({types}) AS {statement}"
                for name, statement in zip(names, statements, strict=True)
            )
            + "; "
        )
    arguments = ", ".join(f"%({name})s" for name, _ in parameters)
    cursor.execute(prepares + "; ".join(f"EXECUTE {name} ({arguments})" for name in names), params)
    if prepares:
        for _ in names:  # each PREPARE's empty result comes first
            cursor.nextset()
        known[key] = names  # noted only now: a failed batch prepares under new names


def numbered(sql: str, parameters: tuple[tuple[str, str], ...]) -> str:
    """`sql` with each %(name)s written as PREPARE's $n, n being the name's place in `parameters`."""
    positions = {name: f"${index}" for index, (name, _) in enumerate(parameters, start=1)}
    return re.sub(r"%\((\w+)\)s", lambda match: positions[match[1]], sql)
