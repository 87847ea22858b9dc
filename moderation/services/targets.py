"""Finding what an action is about from an instance or an id (sockets and the API send ids)."""

from accounts.models import User
from moderation.errors import UnknownTarget
from rooms.models import Room


def room_of(room_or_id) -> Room:
    if isinstance(room_or_id, Room):
        return room_or_id
    room = Room.objects.filter(pk=room_or_id).first()
    if room is None:
        raise UnknownTarget("There is no such room.")
    return room


def user_of(user_or_id) -> User:
    if isinstance(user_or_id, User):
        return user_or_id
    user = None
    if isinstance(user_or_id, int) and not isinstance(user_or_id, bool):
        user = User.objects.filter(pk=user_or_id).first()
    if user is None:
        raise UnknownTarget("There is no such user.")
    return user
