"""The report form's reasons on a room's page (registered with rooms.room_page in
ModerationConfig.ready)."""

from moderation.models import Report


def report_form(request, room, signed_in: bool) -> tuple[dict, dict]:
    return {"report_reasons": Report.Reason.choices}, {}
