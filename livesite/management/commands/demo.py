"""`python manage.py demo`: demo accounts and a room for a first look at the site.

Site-level (it touches accounts, rooms and gifts), so it lives with the project's wiring,
not inside one of the apps it fills.
"""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services as accounts
from accounts.models import User
from gifts import conf as gifts_conf
from gifts.catalog import seed_demo_catalog
from gifts.services import coins
from rooms import services as rooms
from rooms.models import Room

DEMO_ROOM_TITLE = "Demo Live"


class Command(BaseCommand):
    help = (
        "Create a demo broadcaster with a room, a viewer and a moderator, and print their log-ins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo accounts with DEBUG off (use --force).")
        credentials = {name: self._account(name) for name in ("broadcaster", "viewer", "moderator")}
        broadcaster = accounts.enable_broadcasting(User.objects.get(username="demo_broadcaster"))
        room = Room.objects.filter(owner=broadcaster).first() or rooms.create_room(
            broadcaster, DEMO_ROOM_TITLE, "A room to try Livesite with.", "Just Chatting"
        )
        rooms.appoint_moderator(room, broadcaster, User.objects.get(username="demo_moderator"))
        seed_demo_catalog()
        for name in ("viewer", "moderator"):
            coins.top_up_to(
                User.objects.get(username=f"demo_{name}"), gifts_conf.demo_coins(), "Demo coins"
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at /accounts/login/ as:"))
        for role, (username, password) in credentials.items():
            self.stdout.write(f"  {role:<12} {username:<18} password: {password}")
        self.stdout.write(f"  room         /rooms/{room.slug}/")

    def _account(self, role: str) -> tuple[str, str]:
        username = f"demo_{role}"
        password = secrets.token_urlsafe(9)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = accounts.sign_up(username, f"{username}@example.com", password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.display_name = f"Demo {role.title()}"
        user.save(update_fields=["display_name"])
        return username, password
