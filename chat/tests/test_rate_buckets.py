"""The token buckets behind every rate (chat messages, likes, gift sends), in Redis."""

import uuid

from chat import limits
from realtime.redis_client import get_sync_redis


def test_a_batch_of_buckets_is_spent_in_turn_as_one_at_a_time_would_be(redis_url):
    bob, carol = (f"test:{uuid.uuid4().hex}:{name}" for name in ("bob", "carol"))

    waits = limits.take_tokens_blocking([bob, carol, bob], rate=0.5, burst=1)

    assert waits[:2] == [0, 0]
    assert 1.9 < waits[2] <= 2.0  # bob's one token went on his first send: 2 s to the next
    assert limits.take_token_blocking(carol, 0.5, 1) > 0  # the same bucket, one at a time
    assert limits.take_tokens_blocking([], rate=0.5, burst=1) == []


def test_a_redis_that_lost_the_script_is_sent_it_again(redis_url):
    bob = f"test:{uuid.uuid4().hex}:bob"
    limits.take_tokens_blocking([f"{bob}:warm-up"], rate=0.5, burst=1)  # Redis has it now
    get_sync_redis().script_flush()  # as a restarted Redis would have lost it

    assert limits.take_tokens_blocking([bob, bob], rate=0.5, burst=1)[0] == 0
    assert limits.take_tokens_blocking([bob], rate=0.5, burst=1)[0] > 0
