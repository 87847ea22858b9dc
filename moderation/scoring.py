"""Delayed scoring: once a message is on screen, classifiers judge it with more context.

The real-time filter sees one message alone and must answer in microseconds.
A Celery worker, a couple of seconds later, sees a batch of messages with what
the filter could not know: the sender's recent record and how many other
viewers sent the same text (a copy-paste raid). Classifiers are pluggable
(MODERATION_CLASSIFIERS, dotted paths): each scores every message of a batch
from 0 (harmless) to 1 (certainly bad), and the highest score wins. The
built-in RuleClassifier needs no model; an ML model or a hosted moderation API
plugs in as another class with the same `score` method.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from django.db.models import Count
from django.utils.module_loading import import_string

from chat.models import ChatMessage
from moderation import conf, room_rules
from moderation.filtering.normalise import normalised_text
from moderation.filtering.rules import BLOCK, HOLD
from moderation.models import Restriction, ReviewItem

HISTORY_DAYS = 30
COPYPASTA_MIN_CHARACTERS = 20  # three viewers typing "gg" is chat, not a raid


@dataclass(frozen=True, slots=True)
class MessageContext:
    message_id: int
    room_id: int
    user_id: int
    text: str
    sent_at: datetime
    same_text_senders: int  # distinct users who sent this text in the room around it, it included
    same_text_messages: tuple[int, ...]  # the ids of those messages (a raid is retracted whole)
    sender_record: int  # the sender's moderation record: flags, removals, restrictions (30 days)


@dataclass(frozen=True, slots=True)
class Score:
    value: float  # 0 harmless .. 1 certainly bad
    reasons: tuple[dict, ...] = ()  # {"code": ..., "message": ...} for the review queue


class Classifier(Protocol):
    def score(self, messages: Sequence[MessageContext]) -> list[Score]:
        """One score per message, in order."""


class RuleClassifier:
    """The rules a worker can afford: today's filter, copy-paste raids, the sender's record."""

    def score(self, messages: Sequence[MessageContext]) -> list[Score]:
        # One look at each room's rules per batch, not one per message.
        filters = {room_id: _current_filter(room_id) for room_id in {m.room_id for m in messages}}
        return [self._score(context, filters[context.room_id]) for context in messages]

    def _score(self, context: MessageContext, chat_filter) -> Score:
        findings = [(0.0, None)]
        verdict = chat_filter.check(context.text)
        if verdict.action in (BLOCK, HOLD):  # the rules changed since it was sent
            reason = verdict.reasons[0]
            findings.append(
                (1.0, {"code": reason.code, "message": "Matches the room's rules now."})
            )
        if (
            context.same_text_senders >= conf.copypasta_users()
            and len(normalised_text(context.text)) >= COPYPASTA_MIN_CHARACTERS
        ):
            message = f"The same text from {context.same_text_senders} users within a minute."
            findings.append((0.9, {"code": "copypasta", "message": message}))
        if context.sender_record:
            message = f"The sender has {context.sender_record} moderation records in 30 days."
            value = min(0.6, 0.2 * context.sender_record)
            findings.append((value, {"code": "sender_record", "message": message}))
        value = max(found[0] for found in findings)
        reasons = tuple(
            reason for found_value, reason in sorted(findings, key=lambda f: -f[0]) if reason
        )
        return Score(value, reasons)


def _current_filter(room_id: int):
    room_token, site_token = room_rules.rules_token(room_id), room_rules.rules_token(None)
    rules = room_rules.cached(room_id, room_token, site_token) or room_rules.load(
        room_id, room_token, site_token
    )
    return rules.chat_filter


@cache
def _classifiers(paths: tuple[str, ...]) -> tuple[Classifier, ...]:
    return tuple(import_string(path)() for path in paths)


def _same_text(messages: list[ChatMessage]) -> dict[int, tuple[int, set[int]]]:
    """For each message: how many users sent its normalised text in its room within the
    window, and the ids of those messages."""
    window = timedelta(seconds=conf.copypasta_window_seconds())
    by_room = defaultdict(list)
    for message in messages:
        by_room[message.room_id].append(message)
    counts = {}
    for room_id, batch in by_room.items():
        nearby = ChatMessage.objects.filter(
            room_id=room_id,
            created_at__gte=min(m.created_at for m in batch) - window,
            created_at__lte=max(m.created_at for m in batch) + window,
        ).values_list("pk", "user_id", "text")
        senders, ids = defaultdict(set), defaultdict(set)
        for message_id, user_id, text in nearby:
            senders[normalised_text(text)].add(user_id)
            ids[normalised_text(text)].add(message_id)
        for message in batch:
            text = normalised_text(message.text)
            counts[message.pk] = (len(senders[text]), ids[text])
    return counts


def _sender_records(user_ids: set[int], now: datetime) -> Counter:
    since = now - timedelta(days=HISTORY_DAYS)
    records = Counter()
    items = (
        ReviewItem.objects.filter(user_id__in=user_ids, kind=ReviewItem.Kind.MESSAGE)
        .filter(created_at__gte=since)
        .exclude(resolution="approved")
        .values("user_id")
        .annotate(count=Count("pk"))
    )
    restrictions = (
        Restriction.objects.filter(user_id__in=user_ids, created_at__gte=since)
        .values("user_id")
        .annotate(count=Count("pk"))
    )
    for row in [*items, *restrictions]:
        records[row["user_id"]] += row["count"]
    return records


def contexts_for(messages: list[ChatMessage], now: datetime) -> list[MessageContext]:
    same_text = _same_text(messages)
    records = _sender_records({m.user_id for m in messages}, now)
    return [
        MessageContext(
            m.pk,
            m.room_id,
            m.user_id,
            m.text,
            m.created_at,
            same_text[m.pk][0],
            tuple(sorted(same_text[m.pk][1])),
            records[m.user_id],
        )
        for m in messages
    ]


def score_all(contexts: list[MessageContext]) -> list[Score]:
    """Every configured classifier's score for every message; the highest wins."""
    best = [Score(0.0) for _ in contexts]
    for classifier in _classifiers(conf.classifiers()):
        for index, score in enumerate(classifier.score(contexts)):
            if score.value > best[index].value:
                best[index] = score
    return best
