"""Domain errors of the rooms app."""


class RoomError(Exception):
    """Base of the errors room actions raise."""


class NotAllowed(RoomError):
    pass


class InvalidRoom(RoomError):
    def __init__(self, message: str, field: str = "title") -> None:
        super().__init__(message)
        self.field = field  # the input it is about, for forms and the API
