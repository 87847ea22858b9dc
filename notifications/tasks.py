"""Celery tasks of the go-live fan-out (notifications.services explains the flow).

Every task is safe to run twice (acks late, reject on worker lost): notifications
are unique per user and stream, and emails are marked sent.
"""

from celery import shared_task

from notifications import services


@shared_task(name="notifications.plan_go_live")
def plan_go_live(stream_id: int) -> int:
    batches = services.plan_go_live(stream_id)
    for user_ids in batches:
        deliver_go_live.delay(stream_id, user_ids)
    return sum(len(batch) for batch in batches)


@shared_task(name="notifications.deliver_go_live")
def deliver_go_live(stream_id: int, user_ids: list[int]) -> int:
    emailed = services.deliver_go_live(stream_id, user_ids)
    if emailed:
        send_go_live_emails.delay(stream_id, emailed)
    return len(user_ids)


@shared_task(name="notifications.send_go_live_emails")
def send_go_live_emails(stream_id: int, user_ids: list[int]) -> int:
    return services.send_go_live_emails(stream_id, user_ids)
