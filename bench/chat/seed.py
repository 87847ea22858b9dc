"""The benchmark's cast: a broadcaster's room and signed-in senders with session cookies.

Run by bench/chat_load.py as `python -m bench.chat.seed SENDERS` in the
benchmark's environment (its own database and Redis db, the servers' secret
key, since a session is only valid under the key that signed it). Prints one
JSON line: the room's slug and one `sessionid` per sender.
"""

import json
import secrets
import sys

import django

ROOM_SLUG_PREFIX = "bench-chat-"


def seed(senders: int) -> dict:
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from rooms.models import Room

    owner, _ = User.objects.get_or_create(
        username="bench-owner", defaults={"is_broadcaster": True, "display_name": "Bench Owner"}
    )
    # A new room per run: it starts empty, and nothing has to be deleted (a cascade
    # would touch every app's tables, whatever state their migrations are in).
    room = Room.objects.create(
        slug=ROOM_SLUG_PREFIX + secrets.token_hex(4), owner=owner, title="Chat load benchmark"
    )
    session_ids = []
    for number in range(senders):
        user, created = User.objects.get_or_create(username=f"bench-sender-{number:03d}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        client = Client()
        client.force_login(user)
        session_ids.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return {"slug": room.slug, "session_ids": session_ids}


if __name__ == "__main__":
    django.setup()
    print(json.dumps(seed(int(sys.argv[1]))))
