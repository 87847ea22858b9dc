from django.contrib import admin

from rooms.models import Room, RoomModerator


class RoomModeratorInline(admin.TabularInline):
    model = RoomModerator
    fk_name = "room"
    extra = 0
    raw_id_fields = ("user", "granted_by")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "owner", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("title", "slug", "owner__username")
    raw_id_fields = ("owner",)
    inlines = [RoomModeratorInline]
