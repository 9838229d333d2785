"""Rollups keyed by their natural key instead of an id (see `tracking.models.Rollup`).

Each table is rebuilt from the target state's model: created under a temporary name, filled
with every row of the old one, which is then dropped, and renamed. On SQLite the new table is
stored WITHOUT ROWID, so its rows live in the primary key's B-tree: an upsert writes one tree
instead of a table and a unique index. The unique constraints become the primary keys; the
artist, album and track columns lose their own indexes; the transitions' covering index goes
(on SQLite the table is that index). Reversible the same way, ids numbered anew.

Django cannot do this by itself: it does not migrate a primary key to a composite one, and its
SQLite schema editor knows nothing of WITHOUT ROWID. A later migration that rebuilds one of
these tables on SQLite (Django does for most field changes there) must add it back.
"""

from django.db import migrations, models
from django.db.migrations.operations.base import Operation

# model: (unique constraint that becomes the key, key fields, columns losing their index)
ROLLUPS = {
    "daystat": ("uniq_daystat", ("user", "day"), ()),
    "dayhourstat": ("uniq_dayhourstat", ("user", "day", "hour"), ()),
    "monthweekdayhourstat": (
        "uniq_monthweekdayhourstat",
        ("user", "month", "weekday", "hour"),
        (),
    ),
    "monthartiststat": ("uniq_monthartiststat", ("user", "month", "artist"), ("artist",)),
    "monthalbumstat": ("uniq_monthalbumstat", ("user", "month", "album"), ("album",)),
    "monthtrackstat": ("uniq_monthtrackstat", ("user", "month", "track"), ("track",)),
    "userartiststat": ("uniq_userartiststat", ("user", "artist"), ("artist",)),
    "useralbumstat": ("uniq_useralbumstat", ("user", "album"), ("album",)),
    "usertrackstat": ("uniq_usertrackstat", ("user", "track"), ("track",)),
    "monthtransitionstat": (
        "uniq_monthtransition",
        ("user", "month", "from_artist", "to_artist"),
        ("from_artist", "to_artist"),
    ),
    "usertransitionstat": (
        "uniq_usertransition",
        ("user", "from_artist", "to_artist"),
        ("from_artist", "to_artist"),
    ),
}
TARGETS = {
    "artist": "collection.artist",
    "from_artist": "collection.artist",
    "to_artist": "collection.artist",
    "album": "collection.album",
    "track": "collection.track",
}


def _state_operations() -> list[Operation]:
    ops: list[Operation] = [
        migrations.RemoveIndex(model_name="monthtransitionstat", name="monthtransition_cover")
    ]
    for model, (constraint, key, unindexed) in ROLLUPS.items():
        ops += [
            migrations.RemoveConstraint(model_name=model, name=constraint),
            migrations.RemoveField(model_name=model, name="id"),
            migrations.AddField(
                model_name=model,
                name="pk",
                field=models.CompositePrimaryKey(
                    *key, blank=True, editable=False, primary_key=True, serialize=False
                ),
            ),
        ]
        ops += [
            migrations.AlterField(
                model_name=model,
                name=name,
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=models.deletion.CASCADE,
                    related_name="+",
                    to=TARGETS[name],
                ),
            )
            for name in unindexed
        ]
    return ops


def _sqlite_keyed_table(schema_editor, model, name: str) -> str:
    """SQLite's CREATE TABLE for a composite-key model, as Django's `table_sql` writes it but
    WITHOUT ROWID and with the key's columns first: SQLite 3.40 (Debian 12's) reports false
    "NULL value in …" errors from `PRAGMA integrity_check` (which backups run) on a WITHOUT
    ROWID table whose columns do not start with its key."""
    qn = schema_editor.quote_name
    key = model._meta.pk_fields
    columns = []
    for field in [*key, *(f for f in model._meta.local_concrete_fields if f not in key)]:
        definition, params = schema_editor.column_sql(model, field)
        assert not params, params
        db_params = field.db_parameters(connection=schema_editor.connection)
        if db_params["check"]:
            definition += " " + schema_editor.sql_check_constraint % db_params
        if field.remote_field and field.db_constraint:
            to = field.remote_field.model._meta
            definition += " " + schema_editor.sql_create_inline_fk % {
                "to_table": qn(to.db_table),
                "to_column": qn(to.get_field(field.remote_field.field_name).column),
            }
        columns.append(f"{qn(field.column)} {definition}")
    columns.append(f"PRIMARY KEY ({', '.join(qn(f.column) for f in key)})")
    return f"CREATE TABLE {qn(name)} ({', '.join(columns)}) WITHOUT ROWID"


def _rebuild(schema_editor, source, target) -> None:
    """Move `source`'s table to `target`'s shape: new table, rows copied, old one dropped."""
    qn = schema_editor.quote_name
    table = target._meta.db_table
    temporary = f"new__{table}"
    if schema_editor.connection.vendor == "sqlite" and target._meta.is_composite_pk:
        schema_editor.execute(_sqlite_keyed_table(schema_editor, target, temporary))
    else:
        sql, params = schema_editor.table_sql(target)
        head = f"CREATE TABLE {qn(table)}"
        assert sql.startswith(head), sql
        schema_editor.execute(f"CREATE TABLE {qn(temporary)}{sql[len(head) :]}", params or None)
    old = {f.column for f in source._meta.local_concrete_fields}
    columns = ", ".join(qn(f.column) for f in target._meta.local_concrete_fields if f.column in old)
    schema_editor.execute(
        f"INSERT INTO {qn(temporary)} ({columns}) SELECT {columns} FROM {qn(table)}"
    )
    schema_editor.execute(f"DROP TABLE {qn(table)}")
    schema_editor.execute(
        schema_editor.sql_rename_table % {"old_table": qn(temporary), "new_table": qn(table)}
    )
    for statement in schema_editor._model_indexes_sql(target):
        schema_editor.execute(statement)


class RekeyRollups(Operation):
    """The state changes above, and each rollup table rebuilt to match them (both ways)."""

    reversible = True

    def __init__(self):
        self.operations = _state_operations()

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {})

    def state_forwards(self, app_label, state):
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for name in ROLLUPS:
            _rebuild(
                schema_editor,
                from_state.apps.get_model(app_label, name),
                to_state.apps.get_model(app_label, name),
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return "Key the rollups by their natural key (SQLite: WITHOUT ROWID)"


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0001_initial"),
        ("tracking", "0006_listen_one_track_index"),
    ]

    operations = [RekeyRollups()]
