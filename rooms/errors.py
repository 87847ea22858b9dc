"""Domain errors of the rooms app."""

from realtime.errors import DomainError


class RoomError(DomainError):
    """Base of the errors room actions raise."""

    code = "room_error"


class NotAllowed(RoomError):
    code = "not_allowed"
    status = 403


class InvalidRoom(RoomError):
    code = "invalid_room"

    def __init__(self, message: str, field: str = "title") -> None:
        super().__init__(message, field=field)
        self.field = field  # the input it is about, for forms and the API
