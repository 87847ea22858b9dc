"""What a cluster node's subscription answers means to the room feed.

No cluster here: these feed `ShardedSubscription` the replies a node sends (SSUBSCRIBE
and SUNSUBSCRIBE confirmations) through a stand-in connection, to check how it reads
them. The real cluster, moved slots and a killed master are in
livesite/tests/faults/test_redis_cluster.py.
"""

import pytest

from realtime.sharded_pubsub import ShardedSubscription, SubscriptionLost

ROOM = "live:{room:1}"


class NodeSubscription:
    """A node's pub/sub connection: records what was sent to it."""

    def __init__(self):
        self.sent = []

    async def ssubscribe(self, channel):
        self.sent.append(("ssubscribe", channel))

    async def sunsubscribe(self, channel):
        self.sent.append(("sunsubscribe", channel))


class Node:
    name = "127.0.0.1:7000"


class Cluster:
    def get_node_from_key(self, key):
        return Node()


@pytest.fixture
def subscription():
    subscription = ShardedSubscription(Cluster())
    subscription._nodes[Node.name] = NodeSubscription()
    subscription._broken = False
    return subscription


def node_says(subscription, kind, channel):
    subscription._queue.put_nowait({"type": kind, "channel": channel.encode(), "data": 1})


async def test_the_last_viewer_reloading_the_page_keeps_the_subscription(subscription):
    """Leave and rejoin before the node confirms the leave: its late SUNSUBSCRIBE answers
    our own unsubscribe, and must not tear down every subscription of the process."""
    await subscription.subscribe(ROOM)
    await subscription.unsubscribe(ROOM)
    await subscription.subscribe(ROOM)
    for kind in ("ssubscribe", "sunsubscribe", "ssubscribe"):
        node_says(subscription, kind, ROOM)
    assert [await subscription.get_message(timeout=0.1) for _ in range(3)] == [None] * 3
    node_says(subscription, "smessage", ROOM)
    assert (await subscription.get_message(timeout=0.1))["type"] == "message"


async def test_a_node_that_drops_a_channel_we_still_want_means_its_slot_moved(subscription):
    await subscription.subscribe(ROOM)
    node_says(subscription, "sunsubscribe", ROOM)
    with pytest.raises(SubscriptionLost):
        await subscription.get_message(timeout=0.1)
