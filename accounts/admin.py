from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "is_broadcaster", "is_staff", "is_active")
    list_filter = ("is_broadcaster", "is_staff", "is_active")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Livesite", {"fields": ("display_name", "bio", "avatar", "is_broadcaster")}),
    )
    actions = ["allow_broadcasting", "stop_broadcasting"]

    @admin.action(description="Allow selected users to broadcast")
    def allow_broadcasting(self, request, queryset):
        for user in queryset:
            services.enable_broadcasting(user)

    @admin.action(description="Take broadcasting away from selected users")
    def stop_broadcasting(self, request, queryset):
        for user in queryset:
            services.disable_broadcasting(user)
