"""Celery tasks of moderation: delayed scoring of chat messages, keeping stream snapshots.

Web processes queue `score_messages` with a batch of message ids a couple of
seconds after the messages went out (moderation.gate.ScoringQueue). Scoring
is idempotent: a message already retracted is skipped, and flagging joins the
message's open review item, so a redelivered task (acks late) does no harm.
"""

import logging

from celery import shared_task
from django.utils import timezone

from chat.models import ChatMessage
from moderation import conf, scoring, services

log = logging.getLogger(__name__)


def queue_scoring(message_ids: list[int]) -> None:
    """Queue one scoring task for these messages (called off the event loop)."""
    score_messages.apply_async(
        (message_ids,),
        countdown=conf.scoring_delay_seconds(),
        queue=conf.scoring_queue(),
        expires=conf.scoring_delay_seconds() + conf.scoring_expires_seconds(),
    )


@shared_task(name="moderation.score_messages")
def score_messages(message_ids: list[int]) -> dict:
    messages = list(
        ChatMessage.objects.filter(pk__in=message_ids, deleted_at__isnull=True).order_by("pk")
    )
    contexts = scoring.contexts_for(messages, timezone.now())
    scores = scoring.score_all(contexts)
    retracted = flagged = 0
    raid_copies: dict[int, scoring.Score] = {}
    for message, context, score in zip(messages, contexts, scores, strict=True):
        if score.value >= conf.retract_score():
            services.flag_message(message, score.value, list(score.reasons), retract=True)
            retracted += 1
            if any(reason["code"] == "copypasta" for reason in score.reasons):
                raid_copies.update(dict.fromkeys(context.same_text_messages, score))
        elif score.value >= conf.review_score():
            services.flag_message(message, score.value, list(score.reasons), retract=False)
            flagged += 1
    # Copies of a raid that an earlier batch let through (fewer senders then) go too.
    for copy in ChatMessage.objects.filter(pk__in=raid_copies, deleted_at__isnull=True):
        score = raid_copies[copy.pk]
        services.flag_message(copy, score.value, list(score.reasons), retract=True)
        retracted += 1
    if retracted or flagged:
        log.info(
            "moderation: scored %d, retracted %d, flagged %d", len(messages), retracted, flagged
        )
    return {"scored": len(messages), "retracted": retracted, "flagged": flagged}


@shared_task(name="moderation.keep_stream_snapshot")
def keep_stream_snapshot(review_item_id: int) -> bool:
    return services.keep_stream_snapshot(review_item_id) is not None


@shared_task(name="moderation.expire_held_messages")
def expire_held_messages() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): drop held messages nobody reviewed in time."""
    return services.expire_held_messages()
