from django.contrib import admin

from rooms import services
from rooms.models import Room, RoomModerator, Stream, StreamIncident


class RoomModeratorInline(admin.TabularInline):
    model = RoomModerator
    fk_name = "room"
    extra = 0
    raw_id_fields = ("user", "granted_by")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "owner", "status", "accepting_streams", "stopped_by_staff",
                    "updated_at")  # fmt: skip
    list_filter = ("status", "accepting_streams", "stopped_by_staff")
    search_fields = ("title", "slug", "owner__username")
    raw_id_fields = ("owner",)
    inlines = [RoomModeratorInline]
    actions = ["stop_by_staff", "start_by_staff"]

    def get_readonly_fields(self, request, obj=None):
        # A room's slug is its address and the name of its video folder (live and replays).
        # Starting and stopping go through the actions, so a staff stop is always recorded.
        held = ("accepting_streams", "stopped_by_staff", "staff_stop_reason")
        return ("slug", *held) if obj else held

    @admin.action(description="Stop selected rooms (only staff can start them again)")
    def stop_by_staff(self, request, queryset):
        for room in queryset:
            services.stop_room(room, request.user, "Stopped by staff.")

    @admin.action(description="Start selected rooms (lifts a staff stop or key revocation)")
    def start_by_staff(self, request, queryset):
        for room in queryset:
            services.start_room(room, request.user)


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
