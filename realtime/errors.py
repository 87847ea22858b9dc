"""The one base of every app's domain errors: a stable `code`, a `message` a person reads,
and `details` (more fields of the answer: `retry_after`, `reasons`, a balance...).

A service raises a subclass; each adapter turns the base into its own kind of answer in
one place: the room socket an `error` frame (chat.consumers), the REST API a response
with the error's `status` (livesite.api_errors), forms and admin a message. So two apps
never need two classes for one refusal: a banned user is `moderation.errors.Restricted`
whether they chat, like or send a gift.
"""


class DomainError(Exception):
    code = "error"
    status = 400  # the HTTP status the REST API answers with
    default_message = "That did not work."

    def __init__(self, message: str | None = None, **details):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict:
        """The answer's fields: code, message and the details."""
        return {"code": self.code, "message": self.message, **self.details}
