"""A web process of its own reading through the read replica: `python -m ... COMMAND ARGS`.

The fault test runs it with DATABASE_URL on a private primary and DATABASE_REPLICA_URL
on a private replica (the suite's own settings point elsewhere), and reads its answer
(one JSON object) on stdout. Commands:
  setup SLUG TITLE     create a broadcaster's room on the primary
  get PATH             an anonymous GET: status and body
  post-then-get PATH   a POST (any; a failed log-in), then a GET with the same cookies
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

import django

django.setup()

from django.test import Client  # noqa: E402


def setup(slug: str, title: str) -> dict:
    from accounts import services as accounts
    from rooms import services as rooms

    owner = accounts.sign_up(f"owner-{slug}", f"{slug}@example.com", "correct horse 123")
    owner = accounts.enable_broadcasting(owner)
    room = rooms.create_room(owner, title, "replica test", "Games", slug=slug)
    return {"slug": room.slug}


def answer(response) -> dict:
    return {"status": response.status_code, "body": response.content.decode(errors="replace")}


def main(command: str, *args: str) -> dict:
    if command == "setup":
        return setup(*args)
    client = Client()
    if command == "post-then-get":
        client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    return answer(client.get(args[0]))


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
