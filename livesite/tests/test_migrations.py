from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def test_every_model_change_has_a_migration(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_the_test_database_is_fully_migrated(db):
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    assert executor.migration_plan(targets) == []
    tables = connection.introspection.table_names()
    assert {"accounts_user", "rooms_room", "rooms_roommoderator"} <= set(tables)


def test_the_user_table_stores_emoji(db, bob):
    bob.display_name = "Bob 🎮🔥"
    bob.save()
    bob.refresh_from_db()
    assert bob.display_name == "Bob 🎮🔥"
