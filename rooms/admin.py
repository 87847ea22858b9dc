from django.contrib import admin

from rooms.models import Room, RoomModerator, Stream, StreamIncident


class RoomModeratorInline(admin.TabularInline):
    model = RoomModerator
    fk_name = "room"
    extra = 0
    raw_id_fields = ("user", "granted_by")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "owner", "status", "accepting_streams", "updated_at")
    list_filter = ("status", "accepting_streams")
    search_fields = ("title", "slug", "owner__username")
    raw_id_fields = ("owner",)
    inlines = [RoomModeratorInline]

    def get_readonly_fields(self, request, obj=None):
        # A room's slug is its address and the name of its video folder (live and replays).
        return ("slug",) if obj else ()


class StreamIncidentInline(admin.TabularInline):
    model = StreamIncident
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "detail", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Stream)
class StreamAdmin(admin.ModelAdmin):
    """Streams are written by the ingest; admins read them (and their incidents)."""

    list_display = ("room", "started_at", "ended_at", "peak_viewers", "replay_ready")
    list_filter = ("replay_ready",)
    search_fields = ("room__slug", "room__title")
    readonly_fields = ("room", "started_at", "ended_at", "peak_viewers", "likes",
                       "replay_ready", "replay_seconds", "replay_expires_at")  # fmt: skip
    inlines = [StreamIncidentInline]

    def has_add_permission(self, request) -> bool:
        return False
