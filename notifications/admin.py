from django.contrib import admin

from notifications.models import EmailChoice, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "room", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "room__slug"]
    raw_id_fields = ["user", "room", "stream"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False  # made by the fan-out only


@admin.register(EmailChoice)
class EmailChoiceAdmin(admin.ModelAdmin):
    list_display = ["user", "go_live", "changed_at"]
    list_filter = ["go_live"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
