"""What other apps add to a room's page: the gift tray, the report form's reasons.

A room knows nothing of what is said or given in it, so `rooms.views.room_page`
asks the parts registered here (each app registers its own in its
AppConfig.ready()) instead of importing gifts or moderation.
"""

from collections.abc import Callable

# part(request, room, signed_in) -> (page context entries, room_config entries)
RoomPagePart = Callable[[object, object, bool], tuple[dict, dict]]

_parts: dict[str, RoomPagePart] = {}


def register_room_page_part(name: str, part: RoomPagePart) -> None:
    _parts[name] = part


def room_page_parts(request, room, signed_in: bool) -> tuple[dict, dict]:
    """Every registered part's context and room_config entries, merged."""
    context, room_config = {}, {}
    for part in _parts.values():
        part_context, part_config = part(request, room, signed_in)
        context.update(part_context)
        room_config.update(part_config)
    return context, room_config
