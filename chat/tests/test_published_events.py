"""What a room's viewers are told when moderators act on its chat, and only after it commits."""

from django.utils import timezone

from chat import services
from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services as moderation


def say(room, user, text):
    return ChatMessage.objects.create(
        id=next_message_id(), room=room, user=user, text=text, created_at=timezone.now()
    )


def test_a_deleted_message_leaves_every_screen_once_the_delete_commits(
    alice_room, bob, carol, published_events, django_capture_on_commit_callbacks
):
    message = say(alice_room, bob, "buy followers at spam.example")
    with django_capture_on_commit_callbacks(execute=True):
        moderation.delete_message(carol, alice_room, message.pk)
        assert published_events == []  # not before the commit

    assert published_events.to_room(alice_room.pk) == [
        {"type": "chat.delete", "id": str(message.pk)}
    ]


def test_clearing_chat_deletes_the_newest_messages_on_screen(
    alice_room, bob, published_events, django_capture_on_commit_callbacks
):
    messages = [say(alice_room, bob, f"message {n}") for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.clear_messages(alice_room.pk, announce_up_to=2) == 3

    deleted = [int(event["id"]) for event in published_events.of_type("chat.delete")]
    assert deleted == [messages[2].pk, messages[1].pk]


def test_slow_mode_is_announced_to_the_room(
    alice_room, carol, published_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        moderation.set_slow_mode(carol, alice_room, 30)

    assert published_events.types() == ["chat.slow_mode"]
    assert published_events.to_room(alice_room.pk)[0]["seconds"] == 30
