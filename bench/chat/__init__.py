"""Load benchmark of the room chat socket: many viewers, a few senders, one room.

`bench/chat_load.py` is the entry point. It seeds a database of its own, starts
daphne processes serving Livesite (or the textbook consumer in `baseline`),
spawns load-generator processes (`load`) that open the sockets and send, and
prints one markdown table per scenario (`report`).
"""
