from django.contrib import admin

from clips.models import Clip, ClipChoice


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["title", "room", "creator", "seconds", "views", "created_at"]
    search_fields = ["title", "room__slug", "creator__username"]
    raw_id_fields = ["room", "stream", "creator"]
    readonly_fields = ["public_id", "seconds", "views", "has_thumbnail"]


@admin.register(ClipChoice)
class ClipChoiceAdmin(admin.ModelAdmin):
    list_display = ["room", "allowed", "changed_at"]
    raw_id_fields = ["room"]
