import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import permissions
from accounts.models import User
from rooms.models import Room


def test_demo_creates_the_cast_and_prints_working_credentials(client, db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()
    credentials = dict(re.findall(r"(demo_\w+)\s+password: (\S+)", text))
    assert set(credentials) == {"demo_broadcaster", "demo_viewer", "demo_moderator"}

    room = Room.objects.get(owner__username="demo_broadcaster")
    moderator = User.objects.get(username="demo_moderator")
    assert permissions.can_moderate_room(moderator, room)
    assert not permissions.can_moderate_room(User.objects.get(username="demo_viewer"), room)
    for username, password in credentials.items():
        assert client.login(username=username, password=password)


def test_demo_runs_twice_without_duplicates(db, settings):
    settings.DEBUG = True
    call_command("demo", stdout=StringIO())
    call_command("demo", stdout=StringIO())
    assert User.objects.filter(username__startswith="demo_").count() == 3
    assert Room.objects.count() == 1


def test_demo_refuses_to_run_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo", stdout=StringIO())
