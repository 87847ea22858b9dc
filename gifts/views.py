"""Pages of the gifts app: the catalog, the wallet, buying coins, a broadcaster's earnings."""

import csv
import uuid
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import permissions
from gifts import conf, payments
from gifts.catalog import active_gifts, room_catalog
from gifts.errors import GiftError
from gifts.models import DailyGiftStats, LedgerEntry, StreamGiftStats
from gifts.services import coins
from infra.read_replica import stale_reads_ok

HISTORY_PAGE = 25
CHART_DAYS = 30
STREAMS_SHOWN = 20


def catalog(request):
    gifts = list(active_gifts())
    return render(
        request,
        "gifts/catalog.html",
        {"gifts": gifts, "catalog": room_catalog(), "quantities": conf.quantities()},
    )


@login_required
def wallet(request):
    entries = LedgerEntry.objects.filter(user=request.user).select_related("transfer")
    page = Paginator(entries.order_by("-id"), HISTORY_PAGE).get_page(request.GET.get("page"))
    context = {
        "wallet": coins.wallet_of(request.user),
        "page": page,
        "is_broadcaster": permissions.can_broadcast(request.user),
    }
    return render(request, "gifts/wallet.html", context)


@login_required
def buy_coins_page(request):
    provider = payments.provider()
    context = {
        "wallet": coins.wallet_of(request.user),
        # A fresh key per rendering: a double-submitted form buys once.
        "offers": [(package, uuid.uuid4().hex) for package in payments.packages()],
        "currency": conf.currency_symbol(),
        "provider": provider,
        "selling": payments.may_sell(provider),
    }
    return render(request, "gifts/buy_coins.html", context)


@login_required
@require_POST
def buy_coins(request):
    try:
        purchase = coins.buy_coins(
            request.user, request.POST.get("package", ""), request.POST.get("idempotency_key")
        )
    except GiftError as error:
        messages.error(request, error.message)
        return redirect("gifts:buy_coins")
    if not purchase.replayed:
        messages.success(request, f"{purchase.coins} coins added. You have {purchase.balance}.")
    return redirect("gifts:wallet")


def _require_broadcaster(user) -> None:
    if not permissions.can_broadcast(user):
        raise PermissionDenied("Earnings are for broadcasters. Turn on broadcasting first.")


def _chart_series(user) -> dict:
    today = timezone.localdate()
    first = today - timedelta(days=CHART_DAYS - 1)
    rows = {row.day: row for row in DailyGiftStats.objects.filter(broadcaster=user, day__gte=first)}
    days = [first + timedelta(days=offset) for offset in range(CHART_DAYS)]
    return {
        "days": [day.isoformat() for day in days],
        "coins": [rows[day].coins if day in rows else 0 for day in days],
        "diamonds": [rows[day].diamonds if day in rows else 0 for day in days],
        "gifts": [rows[day].gifts if day in rows else 0 for day in days],
    }


@login_required
@stale_reads_ok  # statistics are recomputed every few seconds anyway
def earnings(request):
    _require_broadcaster(request.user)
    daily = DailyGiftStats.objects.filter(broadcaster=request.user).select_related("top_gift")
    streams = StreamGiftStats.objects.filter(broadcaster=request.user).select_related(
        "stream__room", "top_gift"
    )
    context = {
        "wallet": coins.wallet_of(request.user),
        "days": daily.order_by("-day")[:CHART_DAYS],
        "streams": streams.order_by("-stream__started_at")[:STREAMS_SHOWN],
        "chart": _chart_series(request.user),
        "share": conf.broadcaster_share_percent(),
    }
    return render(request, "gifts/earnings.html", context)


CSV_COLUMNS = ["sends", "gifts", "coins", "diamonds", "unique_gifters", "top_gift"]


@login_required
@stale_reads_ok
def earnings_csv(request):
    _require_broadcaster(request.user)
    by_stream = request.GET.get("by") == "stream"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = "streams" if by_stream else "days"
    response["Content-Disposition"] = f'attachment; filename="earnings-by-{name}.csv"'
    writer = csv.writer(response)
    if by_stream:
        writer.writerow(["stream", "room", "started_at", *CSV_COLUMNS])
        rows = StreamGiftStats.objects.filter(broadcaster=request.user).select_related(
            "stream__room", "top_gift"
        )
        for row in rows.order_by("-stream__started_at"):
            stream = row.stream
            writer.writerow(
                [stream.pk, stream.room.slug, stream.started_at.isoformat(), *_figures(row)]
            )
    else:
        writer.writerow(["day", *CSV_COLUMNS])
        rows = DailyGiftStats.objects.filter(broadcaster=request.user).select_related("top_gift")
        for row in rows.order_by("-day"):
            writer.writerow([row.day.isoformat(), *_figures(row)])
    return response


def _figures(row) -> list:
    top = row.top_gift.slug if row.top_gift else ""
    return [row.sends, row.gifts, row.coins, row.diamonds, row.unique_gifters, top]
