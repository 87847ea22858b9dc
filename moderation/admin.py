"""Moderation in Django admin: the review queue with its one-click actions, and the records.

Every action calls moderation.services (which checks permissions and writes the
audit log); admin only picks the items and reports what happened. The audit
log is read-only here, as everywhere.
"""

from django import forms
from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.html import format_html

from moderation import review_context, services
from moderation.errors import ModerationError
from moderation.filtering import BlockedTerm, InvalidRule
from moderation.models import (
    AuditEntry,
    BlockedTermRule,
    Report,
    Restriction,
    ReviewItem,
    RoomRules,
    StreamSnapshot,
)

ONE_CLICK_TIMEOUTS = (10, 60, 24 * 60)


def _apply(modeladmin, request, queryset, done: str, action) -> int:
    """Run `action(item)` on each selected item; report successes and each refusal."""
    succeeded = 0
    for item in queryset:
        try:
            action(item)
        except ModerationError as error:
            modeladmin.message_user(request, f"{item}: {error.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded} item(s).", messages.SUCCESS)
    return succeeded


@admin.action(description="Approve (nothing wrong; held messages are shown)")
def approve(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, "Approved", lambda i: services.approve(request.user, i))


@admin.action(description="Delete the message")
def delete_message(modeladmin, request, queryset):
    _apply(
        modeladmin,
        request,
        queryset,
        "Deleted",
        lambda i: services.delete_reviewed_message(request.user, i),
    )


def _timeout_action(minutes: int):
    def action(modeladmin, request, queryset):
        _apply(
            modeladmin,
            request,
            queryset,
            f"Timed out for {minutes} minutes",
            lambda i: services.time_out_author(request.user, i, minutes, i.reason),
        )

    label = f"{minutes // 60} hour(s)" if minutes >= 60 else f"{minutes} minutes"
    action.__name__ = f"time_out_{minutes}"
    return admin.action(description=f"Time out the user for {label}")(action)


class TimeoutForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, initial=30)
    reason = forms.CharField(max_length=500, required=False)


@admin.action(description="Time out the user for N minutes…")
def time_out_for(modeladmin, request, queryset):
    form = TimeoutForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        minutes, reason = form.cleaned_data["minutes"], form.cleaned_data["reason"]
        _apply(
            modeladmin,
            request,
            queryset,
            f"Timed out for {minutes} minutes",
            lambda i: services.time_out_author(request.user, i, minutes, reason),
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Time out the users of these items",
        "form": form,
        "items": queryset,
        "opts": modeladmin.model._meta,
        "action": "time_out_for",
    }
    return TemplateResponse(request, "moderation/admin/timeout.html", context)


@admin.action(description="Ban the user from the room")
def ban_from_room(modeladmin, request, queryset):
    _apply(
        modeladmin,
        request,
        queryset,
        "Banned from the room",
        lambda i: services.ban_author_from_room(request.user, i, i.reason),
    )


@admin.action(description="Ban the user from the site")
def ban_from_site(modeladmin, request, queryset):
    _apply(
        modeladmin,
        request,
        queryset,
        "Banned from the site",
        lambda i: services.ban_author_from_site(request.user, i, i.reason),
    )


@admin.action(description="End the stream and revoke its key")
def end_stream(modeladmin, request, queryset):
    _apply(
        modeladmin,
        request,
        queryset,
        "Stream ended",
        lambda i: services.end_reviewed_stream(request.user, i, i.reason),
    )


class OpenByDefault(admin.SimpleListFilter):
    """The queue opens on what still needs a decision."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("all", "All"), *ReviewItem.State.choices]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            selected = (self.value() or ReviewItem.State.OPEN) == value
            query = changelist.get_query_string({self.parameter_name: value})
            yield {"selected": selected, "query_string": query, "display": label}

    def queryset(self, request, queryset):
        value = self.value() or ReviewItem.State.OPEN
        return queryset if value == "all" else queryset.filter(state=value)


class SnapshotInline(admin.TabularInline):
    model = StreamSnapshot
    extra = 0
    can_delete = False
    fields = ("preview", "taken_at", "stream")
    readonly_fields = fields

    def preview(self, snapshot):
        return format_html('<img src="{}" width="240" alt="">', snapshot.image.url)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "kind",
        "source",
        "reason",
        "room",
        "user",
        "excerpt",
        "report_count",
        "score",
        "state",
        "resolution",
    )
    list_filter = (
        OpenByDefault,
        "source",
        "reason",
        "kind",
        ("room", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("user__username", "room__slug", "room__title", "reason")
    list_select_related = ("room", "user", "message")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = [
        approve,
        delete_message,
        *map(_timeout_action, ONE_CLICK_TIMEOUTS),
        time_out_for,
        ban_from_room,
        ban_from_site,
        end_stream,
    ]
    readonly_fields = (
        "kind",
        "source",
        "reason",
        "reasons",
        "score",
        "report_count",
        "room",
        "message_id",
        "user",
        "state",
        "resolution",
        "resolved_by",
        "resolved_at",
        "created_at",
        "context",
    )
    fields = readonly_fields
    inlines = [SnapshotInline]
    change_form_template = "moderation/admin/review_item_change_form.html"

    @admin.display(description="what")
    def excerpt(self, item):
        if item.message is not None:
            return item.message.text[:80]
        return item.get_kind_display()

    @admin.display(description="context")
    def context(self, item):
        return render_to_string(
            "moderation/admin/review_context.html", {"context": review_context.context_of(item)}
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "review_actions": self._action_buttons(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _action_buttons(self, request):
        return [
            (name, description) for name, description in self.get_action_choices(request) if name
        ]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reporter", "reason", "review_item", "details")
    list_filter = ("reason",)
    search_fields = ("reporter__username", "details")
    list_select_related = ("reporter", "review_item")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RestrictionForm(forms.ModelForm):
    minutes = forms.IntegerField(min_value=1, required=False, help_text="Timeouts only.")

    class Meta:
        model = Restriction
        fields = ("user", "room", "kind", "reason")


@admin.register(Restriction)
class RestrictionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "room",
        "kind",
        "reason",
        "created_by",
        "created_at",
        "expires_at",
        "lifted_at",
        "active",
    )
    list_filter = ("kind", ("room", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "reason")
    raw_id_fields = ("user", "room")
    list_select_related = ("user", "room", "created_by")
    actions = ["lift"]
    form = RestrictionForm

    @admin.display(boolean=True)
    def active(self, restriction):
        return restriction.is_active()

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """New restrictions go through the services (permissions, cache, audit, disconnect)."""
        data = form.cleaned_data
        user, room, reason = data["user"], data["room"], data["reason"]
        try:
            if room is None:
                restriction = services.ban_from_site(request.user, user, reason)
            elif data["kind"] == Restriction.Kind.BAN:
                restriction = services.ban_user(request.user, room, user, reason)
            else:
                restriction = services.timeout_user(
                    request.user, room, user, data["minutes"] or 10, reason
                )
        except ModerationError as error:
            raise forms.ValidationError(error.message) from None
        obj.pk = restriction.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except forms.ValidationError as error:
            self.message_user(request, error.messages[0], messages.ERROR)
            return super().add_view(request, form_url, extra_context)

    @admin.action(description="Lift (end early)")
    def lift(self, request, queryset):
        lifted = 0
        for restriction in queryset.select_related("room", "user"):
            try:
                if restriction.room is None:
                    lifted += services.lift_site_ban(request.user, restriction.user)
                else:
                    lifted += services.lift_restrictions(
                        request.user, restriction.room, restriction.user
                    )
            except ModerationError as error:
                self.message_user(request, error.message, messages.ERROR)
        self.message_user(request, f"Lifted {lifted} restriction(s).")


class BlockedTermForm(forms.ModelForm):
    class Meta:
        model = BlockedTermRule
        fields = ("term", "room", "action", "whole_word")

    def clean(self):
        data = super().clean()
        try:
            BlockedTerm(
                data.get("term", ""),
                data.get("action", ""),
                whole_word=data.get("whole_word", True),
            )
        except InvalidRule as error:
            raise forms.ValidationError(str(error)) from None
        return data


@admin.register(BlockedTermRule)
class BlockedTermRuleAdmin(admin.ModelAdmin):
    form = BlockedTermForm
    list_display = ("term", "room", "action", "whole_word", "created_by", "updated_at")
    list_filter = ("action", "whole_word", ("room", admin.RelatedOnlyFieldListFilter))
    search_fields = ("term",)
    raw_id_fields = ("room",)

    def save_model(self, request, obj, form, change):
        if change and "term" in form.changed_data:
            services.remove_blocked_term(request.user, BlockedTermRule.objects.get(pk=obj.pk))
        rule = services.add_blocked_term(
            request.user, obj.room, obj.term, obj.action, obj.whole_word
        )
        obj.pk = rule.pk

    def delete_model(self, request, obj):
        services.remove_blocked_term(request.user, obj)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            services.remove_blocked_term(request.user, rule)


@admin.register(RoomRules)
class RoomRulesAdmin(admin.ModelAdmin):
    list_display = ("room", "link_mode", "followers_only", "flood_action", "updated_at")
    list_filter = ("link_mode", "followers_only")
    raw_id_fields = ("room",)

    def save_model(self, request, obj, form, change):
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.rules.ROOM_RULE_FIELDS
        }
        services.update_room_rules(request.user, obj.room, **changes)
        if "followers_only" in form.changed_data or not change:
            services.set_followers_only(request.user, obj.room, obj.followers_only)
        obj.pk = RoomRules.objects.get(room=obj.room).pk


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "actor",
        "action",
        "room",
        "target_user",
        "message_id",
        "review_item",
        "reason",
    )
    list_filter = ("action", ("room", admin.RelatedOnlyFieldListFilter))
    search_fields = ("actor__username", "target_user__username", "reason")
    list_select_related = ("actor", "room", "target_user", "review_item")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
