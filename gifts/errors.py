"""Domain errors of the gifts app.

Each error has a stable `code` (clients switch on it: the socket's `error`
frame, the REST body) and a message a user can read. When a gift action
raises one, no balance and no ledger row has changed.
"""


from realtime.errors import DomainError


class GiftError(DomainError):
    """Base of the errors gift and wallet actions raise."""

    code = "gift_error"
    default_message = "The gift could not be sent."


class NotSignedIn(GiftError):
    code = "not_signed_in"
    status = 401
    default_message = "Log in to send gifts."


class TooManySends(GiftError):
    """Past the sender's rate (GIFTS_SEND_RATE a second after a burst): `retry_after` says
    when the next send goes."""

    code = "rate_limited"
    status = 429
    default_message = "You are sending gifts too fast."


class UnknownGift(GiftError):
    code = "unknown_gift"
    default_message = "This gift is not available."


class BadQuantity(GiftError):
    code = "bad_quantity"
    default_message = "Choose how many to send: 1, 10 or 99."


class RoomNotLive(GiftError):
    code = "room_not_live"
    status = 409
    default_message = "Gifts can only be sent while the broadcaster is live."


class SelfGift(GiftError):
    code = "self_gift"
    default_message = "You cannot send gifts to your own room."


class InsufficientFunds(GiftError):
    code = "insufficient_funds"
    status = 402
    default_message = "You do not have enough coins for this gift."

    def __init__(self, needed: int, balance: int):
        self.needed = needed
        self.balance = balance
        super().__init__(
            f"This costs {needed} coins and you have {balance}. Buy coins to send it.",
            needed=needed,
            balance=balance,
        )


class BadIdempotencyKey(GiftError):
    code = "bad_idempotency_key"
    default_message = "The request needs an idempotency key of 8 to 64 letters, digits, '-' or '_'."


class IdempotencyKeyReused(GiftError):
    code = "idempotency_key_reused"
    status = 409
    default_message = "This idempotency key was already used for a different request."


class BadAmount(GiftError):
    code = "bad_amount"
    default_message = "The amount must be a whole number of coins above zero."


class UnknownPackage(GiftError):
    code = "unknown_package"
    default_message = "This coin package is not on offer."


class PaymentsNotSetUp(GiftError):
    code = "payments_not_set_up"
    default_message = "Coins cannot be bought on this site yet: payments are not set up."


class PaymentFailed(GiftError):
    code = "payment_failed"
    default_message = "The payment did not go through; no coins were added."
