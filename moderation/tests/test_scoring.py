"""Delayed scoring: what the worker's classifiers retract, flag or leave alone."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services, tasks
from moderation.models import AuditEntry, ReviewItem
from moderation.scoring import Score

RAID = "Follow my channel for FREE coins!!! link in bio"


def say(room, user, text, seconds_ago: float = 0) -> ChatMessage:
    return ChatMessage.objects.create(
        id=next_message_id(),
        room=room,
        user=user,
        text=text,
        created_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.mark.django_db
def test_the_same_long_text_from_three_viewers_is_retracted(alice_room, viewers, bob):
    copies = [say(alice_room, user, RAID) for user in viewers]
    innocent = say(alice_room, bob, "what a play")
    result = tasks.score_messages([m.pk for m in [*copies, innocent]])
    assert result == {"scored": 4, "retracted": 3, "flagged": 0}
    assert ChatMessage.objects.filter(deleted_at__isnull=False).count() == 3
    items = ReviewItem.objects.all()
    assert {(i.source, i.reason) for i in items} == {("scored", "copypasta")}
    assert AuditEntry.objects.filter(action="auto_retract", actor=None).count() == 3


@pytest.mark.django_db
def test_a_raid_found_late_takes_the_earlier_copies_too(alice_room, viewers):
    early = [say(alice_room, user, RAID, seconds_ago=5) for user in viewers[:2]]
    tasks.score_messages([m.pk for m in early])  # two senders: not yet a raid
    assert not ChatMessage.objects.filter(deleted_at__isnull=False).exists()
    late = say(alice_room, viewers[2], RAID)
    assert tasks.score_messages([late.pk])["retracted"] == 3


@pytest.mark.django_db
def test_short_common_chat_is_not_a_raid(alice_room, viewers):
    messages = [say(alice_room, user, "gg") for user in viewers]
    assert tasks.score_messages([m.pk for m in messages])["retracted"] == 0


@pytest.mark.django_db
def test_a_batch_reads_each_rooms_rules_once_however_long_it_is(
    alice_room, viewers, django_assert_max_num_queries
):
    batch = [say(alice_room, viewers[n % 3], f"nice play number {n}").pk for n in range(60)]
    # The messages, their neighbours, the senders' records, the room's and the site's rules:
    # a fixed number of queries, not a few per message.
    with django_assert_max_num_queries(12):
        result = tasks.score_messages(batch)
    assert result == {"scored": 60, "retracted": 0, "flagged": 0}


@pytest.mark.django_db
def test_a_message_matching_a_rule_made_after_it_was_sent_is_retracted(alice_room, alice, bob):
    message = say(alice_room, bob, "the ending is a spoiler")
    services.add_blocked_term(alice, alice_room, "spoiler", "block")
    assert tasks.score_messages([message.pk])["retracted"] == 1


@pytest.mark.django_db
def test_a_sender_with_a_record_is_flagged_for_review_not_retracted(alice_room, carol, bob):
    for _ in range(3):
        services.timeout_user(carol, alice_room, bob, 1)
    message = say(alice_room, bob, "hello again")
    assert tasks.score_messages([message.pk]) == {"scored": 1, "retracted": 0, "flagged": 1}
    message.refresh_from_db()
    assert message.deleted_at is None
    assert ReviewItem.objects.get().reason == "sender_record"


class FlagsTheWordPineapple:
    """A stand-in for a model or a hosted moderation API."""

    def score(self, messages):
        return [
            Score(0.95, ({"code": "pineapple", "message": "On pizza."},))
            if "pineapple" in m.text
            else Score(0.0)
            for m in messages
        ]


@pytest.mark.django_db
def test_classifiers_plug_in_through_settings(settings, alice_room, bob):
    settings.MODERATION_CLASSIFIERS = [f"{__name__}.FlagsTheWordPineapple"]
    message = say(alice_room, bob, "pineapple belongs on pizza")
    assert tasks.score_messages([message.pk])["retracted"] == 1
    assert ReviewItem.objects.get().reason == "pineapple"


@pytest.mark.django_db
def test_approving_a_retracted_message_puts_it_back(alice_room, viewers, carol):
    copies = [say(alice_room, user, RAID) for user in viewers]
    tasks.score_messages([m.pk for m in copies])
    services.approve(carol, ReviewItem.objects.first())
    assert ChatMessage.objects.filter(deleted_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
async def test_a_raid_disappears_from_every_screen(open_socket, settings, alice_room, viewers):
    """The whole path in one process: sockets, the scoring queue, the (eager) task, chat.delete."""
    settings.MODERATION_SCORING_BATCH_SECONDS = 0.2
    watchers = [await open_socket(alice_room) for _ in range(2)]
    ids = []
    for n, user in enumerate(viewers):
        raider = await open_socket(alice_room, user)
        await raider.send({"type": "chat.send", "text": RAID, "nonce": str(n)})
        ids.append((await raider.expect("chat.message", nonce=str(n)))["id"])
    for watcher in watchers:
        for message_id in ids:
            await watcher.expect("chat.delete", id=message_id)
    left = await database_sync_to_async(ChatMessage.objects.filter(deleted_at=None).count)()
    assert left == 0
