"""Control events: a room hub acts on them (closes a user's sockets); no client sees them.
And the close codes the real-time base itself sends.

They travel like any other event (`realtime.publish`), on a room's channel or on the
users' channel, so any app can ask every web process to drop a user's sockets
without importing the app that owns the socket.
"""

CONTROL_DISCONNECT = "_disconnect"

# Close codes (4000-4999 are the application's; docs/protocol.md lists them all).
CLOSE_BANNED = 4403
# The user's rights changed (deactivated, password changed, staff or moderator taken away):
# reconnect, and the new hello says what the user may do now.
CLOSE_RIGHTS_CHANGED = 4401
# The client left more than WEBSOCKET_SEND_BUFFER_BYTES unread (realtime/send_buffer.py).
CLOSE_SLOW_CONSUMER = 4408


def disconnect(user_id: int, code: int) -> dict:
    """Close every socket of `user_id` (in one room, or everywhere on the users' channel)."""
    return {"type": CONTROL_DISCONNECT, "user_id": user_id, "code": code}


def rights_changed(user_id: int) -> dict:
    """Close the user's sockets so they reconnect with the rights they have now."""
    return disconnect(user_id, CLOSE_RIGHTS_CHANGED)
