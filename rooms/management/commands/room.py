"""`python manage.py room create USERNAME TITLE` and `python manage.py room key SLUG`.

For operators and scripts: `create` prints the new room's slug, `key` rotates the
room's stream key and prints the new one (the only way to read a key again).
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from rooms import services
from rooms.errors import RoomError
from rooms.models import Room


class Command(BaseCommand):
    help = "Create a room, or rotate a room's stream key and print it."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a room and print its slug")
        create.add_argument("username")
        create.add_argument("title")
        key = actions.add_parser("key", help="rotate the room's stream key and print it")
        key.add_argument("slug")

    def handle(self, *args, action: str, **options):
        try:
            if action == "create":
                self.stdout.write(self._create(options["username"], options["title"]).slug)
            else:
                room = self._room(options["slug"])
                # The operator acts for the owner: the key is the owner's to use.
                self.stdout.write(services.rotate_stream_key(room, room.owner))
        except RoomError as error:
            raise CommandError(str(error)) from None

    def _create(self, username: str, title: str) -> Room:
        try:
            owner = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        return services.create_room(owner, title)

    def _room(self, slug: str) -> Room:
        try:
            return Room.objects.select_related("owner").get(slug=slug)
        except Room.DoesNotExist:
            raise CommandError(f"No room with slug {slug!r}.") from None
