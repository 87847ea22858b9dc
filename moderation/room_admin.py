"""The room moderation admin at /moderate/: each room's own moderators and owner review
their rooms' queue, reports, restrictions and audit entries, and nothing else.

Django's admin at /admin/ is for staff only (it lets in `is_staff` users and checks
model permissions); appointing a room moderator must not make them staff, who could
then reach users' private data and site settings. So room moderators get a second
`AdminSite` holding only these four models, with the same classes as staff's admin
(moderation.admin) scoped by `RoomScoped`:

- the querysets hold only rows of rooms the user moderates
  (accounts.permissions.rooms_moderated_by; staff see every room here too), so
  another room's item is "not found" by URL as in a list;
- view permission is that scope, not Django's model permissions; the review queue
  and restrictions may be changed only through their actions, which call the same
  services as staff's admin (and those check the room again).

Site-wide actions (site bans, ending a stream) are left out here: they are staff's.
"""

from contextvars import ContextVar

from django import forms
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import permissions
from moderation import admin as staff_admin
from moderation import review_context
from moderation.models import AuditEntry, Report, Restriction, ReviewItem
from rooms.models import Room


class RoomModerationSite(admin.AdminSite):
    site_header = "Room moderation"
    site_title = "Room moderation"
    index_title = "Your rooms' moderation"
    site_url = "/"
    enable_nav_sidebar = False

    def has_permission(self, request) -> bool:
        return permissions.can_use_room_moderation_admin(request.user)

    def login(self, request, extra_context=None):
        # The site's own sign-in page: the admin's refuses anyone who is not staff.
        return redirect_to_login(request.get_full_path(), reverse("accounts:login"))


site = RoomModerationSite(name="room_moderation")
# No default: outside change_view, room_context shows no other room (an empty set).
_REVIEWER_ROOMS: ContextVar[set[int] | None] = ContextVar("reviewer_rooms")


def moderated_rooms(request) -> set[int] | None:
    if not hasattr(request, "_moderated_rooms"):
        request._moderated_rooms = permissions.rooms_moderated_by(request.user)
    return request._moderated_rooms


class RoomScoped:
    """Rows of the rooms the user moderates only; viewing is that scope."""

    room_path = "room"  # how a row reaches its room

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        rooms = moderated_rooms(request)
        return rows if rooms is None else rows.filter(**{f"{self.room_path}__in": rooms})

    def _room_id_of(self, obj) -> int | None:
        target = obj
        for part in self.room_path.split("__"):
            target = getattr(target, part, None)
        return getattr(target, "pk", None)

    def in_scope(self, request, obj) -> bool:
        rooms = moderated_rooms(request)
        return obj is None or rooms is None or self._room_id_of(obj) in rooms

    def has_module_permission(self, request) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request) and self.in_scope(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RoomReviewItemAdmin(RoomScoped, staff_admin.ReviewItemAdmin):
    readonly_fields = tuple(
        f for f in staff_admin.ReviewItemAdmin.readonly_fields if f != "context"
    )
    readonly_fields = (*readonly_fields, "room_context")
    fields = readonly_fields
    actions = [
        staff_admin.approve,
        staff_admin.delete_message,
        *map(staff_admin._timeout_action, staff_admin.ONE_CLICK_TIMEOUTS),
        staff_admin.time_out_for,
        staff_admin.ban_from_room,
    ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A display method gets no request: the rooms travel in this request's context
        # (not on self, which every request shares).
        token = _REVIEWER_ROOMS.set(moderated_rooms(request))
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        finally:
            _REVIEWER_ROOMS.reset(token)

    @admin.display(description="context")
    def room_context(self, item):
        rooms = _REVIEWER_ROOMS.get(set())
        return render_to_string(
            "moderation/admin/review_context.html",
            {"context": review_context.context_of(item, rooms)},
        )


class RoomReportAdmin(RoomScoped, staff_admin.ReportAdmin):
    room_path = "review_item__room"


class RoomRestrictionForm(staff_admin.RestrictionForm):
    room = forms.ModelChoiceField(queryset=Room.objects.none())


class RoomRestrictionAdmin(RoomScoped, staff_admin.RestrictionAdmin):
    form = RoomRestrictionForm
    raw_id_fields = ("user",)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        rooms = moderated_rooms(request)
        choices = Room.objects.all() if rooms is None else Room.objects.filter(pk__in=rooms)
        form.base_fields["room"].queryset = choices.order_by("title")
        return form


class RoomAuditEntryAdmin(RoomScoped, staff_admin.AuditEntryAdmin):
    pass


site.register(ReviewItem, RoomReviewItemAdmin)
site.register(Report, RoomReportAdmin)
site.register(Restriction, RoomRestrictionAdmin)
site.register(AuditEntry, RoomAuditEntryAdmin)
