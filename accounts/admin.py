from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.forms import ThrottledAdminLoginForm
from accounts.models import User

# /admin/login/ goes through the same throttled log-in as the site's form.
admin.site.login_form = ThrottledAdminLoginForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "is_broadcaster", "is_staff", "is_active")
    list_filter = ("is_broadcaster", "is_staff", "is_active")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Livesite",
            {
                "fields": (
                    "display_name",
                    "bio",
                    "avatar",
                    "is_broadcaster",
                    "broadcasting_revoked_by_staff",
                    "broadcasting_revoked_reason",
                )
            },
        ),
    )
    # Changed only through the actions below, so a revocation is always recorded as one.
    readonly_fields = ("broadcasting_revoked_by_staff", "broadcasting_revoked_reason")
    actions = ["allow_broadcasting", "stop_broadcasting"]

    @admin.action(description="Allow selected users to broadcast (lifts a staff revocation)")
    def allow_broadcasting(self, request, queryset):
        for user in queryset:
            services.restore_broadcasting(request.user, user)

    @admin.action(description="Take broadcasting away from selected users (only staff can undo)")
    def stop_broadcasting(self, request, queryset):
        for user in queryset:
            services.revoke_broadcasting(request.user, user, "Taken away by staff.")
