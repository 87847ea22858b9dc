"""Domain errors of the accounts app; every adapter turns them into its own answer."""

from realtime.errors import DomainError


class AccountError(DomainError):
    """Base of the errors account actions raise."""

    code = "account_error"


class TooManyAttempts(AccountError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after_seconds: int):
        self.retry_after_seconds = retry_after_seconds
        if retry_after_seconds < 90:
            wait = f"{max(1, retry_after_seconds)} second(s)"
        else:
            wait = f"{round(retry_after_seconds / 60)} minute(s)"
        super().__init__(
            f"Too many attempts. Try again in {wait}.", retry_after=retry_after_seconds
        )


class NotAllowed(AccountError):
    """The user may not do this."""

    code = "not_allowed"
    status = 403
