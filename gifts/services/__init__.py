"""Gift and wallet actions, the only code that moves value, in three modules:

- sending: `send_gift`, the one way a gift is sent (socket and REST), and its receipt;
- coins: grants, purchases and wallets;
- after_send: what follows a batch of sends (boards, the room's frames, statistics).

Views, the REST API, the room socket, admin and commands call them and turn
`realtime.errors.DomainError` into their own answers. Each action writes in one
transaction and publishes its events after commit.
"""
