"""A FULLTEXT index on rooms' title, tags and category, for search (discovery.matching).

MySQL and MariaDB only: Django has no FULLTEXT index type, and SQLite searches with
LIKE instead.
"""

from django.db import migrations

INDEX = "rooms_room_search_text"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(
            f"CREATE FULLTEXT INDEX {INDEX} ON rooms_room (title, tags, category)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"DROP INDEX {INDEX} ON rooms_room")


class Migration(migrations.Migration):
    dependencies = [("rooms", "0008_follow_notify")]

    # MySQL cannot run DDL inside a transaction.
    atomic = False
    operations = [migrations.RunPython(add_index, drop_index, atomic=False)]
