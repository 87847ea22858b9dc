"""Domain errors of the accounts app; every adapter turns them into its own answer."""


class AccountError(Exception):
    """Base of the errors account actions raise."""


class TooManyAttempts(AccountError):
    def __init__(self, retry_after_seconds: int):
        self.retry_after_seconds = retry_after_seconds
        if retry_after_seconds < 90:
            wait = f"{max(1, retry_after_seconds)} second(s)"
        else:
            wait = f"{round(retry_after_seconds / 60)} minute(s)"
        super().__init__(f"Too many attempts. Try again in {wait}.")


class NotAllowed(AccountError):
    """The user may not do this."""
