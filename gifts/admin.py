"""Admin: the gift catalog (editable), money records (read-only) and coin top-ups.

Balances and ledger rows are never edited here: a correction is a new
transfer (a top-up through `gifts.services.coins.grant_coins`), so the ledger still
explains every balance.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from gifts.errors import GiftError
from gifts.models import (
    Balance,
    DailyGiftStats,
    Gift,
    GiftSend,
    LedgerEntry,
    StreamGiftStats,
    Transfer,
)
from gifts.services import coins


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    list_display = (
        "picture",
        "name",
        "slug",
        "price",
        "tier",
        "animation",
        "sort_order",
        "is_active",
    )
    list_display_links = ("picture", "name")
    list_editable = ("sort_order", "is_active")
    list_filter = ("tier", "is_active")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description="")
    def picture(self, gift):
        if not gift.image_url:
            return ""
        return format_html('<img src="{}" alt="" width="32" height="32">', gift.image_url)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TopUpForm(forms.Form):
    username = forms.CharField(max_length=150)
    amount = forms.IntegerField(min_value=1)
    reason = forms.CharField(max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError("No user has this name.")
        return user


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("user", "currency", "slot", "amount")
    list_filter = ("currency",)
    search_fields = ("user__username",)
    change_list_template = "gifts/admin_balance_list.html"

    def get_urls(self):
        top_up = self.admin_site.admin_view(self.top_up_view)
        return [path("top-up/", top_up, name="gifts_balance_top_up"), *super().get_urls()]

    def top_up_view(self, request):
        if not request.user.has_perm("gifts.add_transfer"):
            raise PermissionDenied
        form = TopUpForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                coins.grant_coins(
                    data["username"],
                    data["amount"],
                    data["reason"],
                    by=request.user,
                    idempotency_key=data["idempotency_key"],
                )
            except GiftError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, f"Granted {data['amount']} coins to {data['username'].username}."
                )
                return redirect(reverse("admin:gifts_balance_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Top up coins"}
        return TemplateResponse(request, "gifts/admin_top_up.html", context)


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("user", "currency", "amount", "created_at")
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "initiator", "memo", "reference", "created_at")
    list_filter = ("kind",)
    search_fields = ("initiator__username", "memo", "reference", "idempotency_key")
    date_hierarchy = "created_at"
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transfer", "user", "currency", "amount", "created_at")
    list_filter = ("currency",)
    search_fields = ("user__username",)
    list_select_related = ("transfer", "user")


@admin.register(GiftSend)
class GiftSendAdmin(ReadOnlyAdmin):
    list_display = (
        "transfer",
        "sender",
        "recipient",
        "gift",
        "quantity",
        "coins",
        "combo_total",
        "created_at",
    )
    list_filter = ("gift",)
    search_fields = ("sender__username", "recipient__username")
    list_select_related = ("transfer", "sender", "recipient", "gift")
    date_hierarchy = "created_at"


@admin.register(StreamGiftStats)
class StreamGiftStatsAdmin(ReadOnlyAdmin):
    list_display = (
        "stream",
        "broadcaster",
        "sends",
        "gifts",
        "coins",
        "unique_gifters",
        "top_gift",
    )


@admin.register(DailyGiftStats)
class DailyGiftStatsAdmin(ReadOnlyAdmin):
    list_display = ("day", "broadcaster", "sends", "gifts", "coins", "unique_gifters", "top_gift")
    list_filter = ("day",)
