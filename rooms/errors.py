"""Domain errors of the rooms app."""


class RoomError(Exception):
    """Base of the errors room actions raise."""


class NotAllowed(RoomError):
    pass


class InvalidRoom(RoomError):
    pass
