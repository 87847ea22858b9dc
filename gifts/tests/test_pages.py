import csv
import io
import re

import pytest
from django.urls import reverse

from gifts import payments, stats
from gifts.models import Transfer
from gifts.services import coins, sending
from gifts.tests.conftest import new_key


def test_the_catalog_page_shows_every_gift_with_its_artwork(client, catalog):
    page = client.get(reverse("gifts:catalog")).content.decode()
    for gift in catalog.values():
        assert gift.name in page
        assert f"/static/gifts/art/{gift.slug}.svg" in page
    assert 'id="gift-catalog"' in page
    assert "gifts/catalog-preview.js" in page


def test_the_wallet_shows_balances_and_history(client, rich_bob, live_room, catalog):
    sending.send_gift(rich_bob, live_room, "rose", 10, new_key())
    client.force_login(rich_bob)
    page = client.get(reverse("gifts:wallet")).content.decode()
    assert 'data-balance="coins">9950<' in page
    assert "10 x Rose from bob" in page
    assert "-50 coins" in page
    assert "+10000 coins" in page


def test_the_wallet_needs_a_login(client, db):
    response = client.get(reverse("gifts:wallet"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_buy_coins_page_says_its_payment_step_is_a_placeholder(client, bob):
    client.force_login(bob)
    page = client.get(reverse("gifts:buy_coins")).content.decode()
    assert "no money is taken" in page
    assert "Buy 70 coins" in page


def buy(client, package="coins-350", key=None):
    page = client.get(reverse("gifts:buy_coins")).content.decode()
    key = key or re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    data = {"package": package, "idempotency_key": key}
    return client.post(reverse("gifts:buy"), data, follow=True), key


def test_buying_coins_credits_them_through_the_ledger(client, bob):
    client.force_login(bob)
    response, _ = buy(client)
    assert response.redirect_chain[-1][0] == reverse("gifts:wallet")
    assert "350 coins added" in response.content.decode()
    assert coins.wallet_of(bob).coins == 350
    transfer = Transfer.objects.get(kind="purchase")
    assert transfer.reference.startswith("placeholder-")


def test_a_double_submitted_purchase_buys_once(client, bob):
    client.force_login(bob)
    _, key = buy(client)
    buy(client, key=key)
    assert coins.wallet_of(bob).coins == 350


def test_an_unknown_package_buys_nothing(client, bob):
    client.force_login(bob)
    response, _ = buy(client, package="coins-1000000")
    assert "not on offer" in response.content.decode()
    assert coins.wallet_of(bob).coins == 0


class DecliningProvider(payments.PaymentProvider):
    def charge(self, user, package, idempotency_key):
        return payments.PaymentResult(approved=False, message="Your card was declined.")


def test_a_declined_payment_adds_no_coins(client, bob, settings):
    settings.GIFTS_PAYMENT_PROVIDER = "gifts.tests.test_pages.DecliningProvider"
    client.force_login(bob)
    response, _ = buy(client)
    page = response.content.decode()
    assert "Your card was declined." in page
    assert "no money is taken" not in page  # a real provider: no placeholder notice
    assert coins.wallet_of(bob).coins == 0
    assert not Transfer.objects.exists()


@pytest.fixture
def earning_alice(alice, rich_bob, live_room, catalog):
    sending.send_gift(rich_bob, live_room, "crown", 1, new_key())
    sending.send_gift(rich_bob, live_room, "rose", 10, new_key())
    stats.recompute_stream(live_room.current_stream_id, alice.pk)
    from django.utils import timezone

    stats.recompute_day(alice.pk, timezone.localdate())
    return alice


def test_a_broadcaster_sees_earnings_with_a_chart(client, earning_alice):
    client.force_login(earning_alice)
    response = client.get(reverse("gifts:earnings"))
    page = response.content.decode()
    assert "/static/vendor/uplot/dist/uPlot.esm.js" in page
    assert "gifts/earnings-chart.js" in page
    series = response.context["chart"]
    assert series["coins"][-1] == 549
    assert series["diamonds"][-1] == 249 + 25
    assert len(series["days"]) == 30
    assert "Crown" in page


def test_earnings_are_for_broadcasters(client, bob):
    client.force_login(bob)
    assert client.get(reverse("gifts:earnings")).status_code == 403
    assert client.get(reverse("gifts:earnings_csv")).status_code == 403


def test_earnings_export_as_csv_by_day_and_by_stream(client, earning_alice, live_room):
    client.force_login(earning_alice)
    by_day = client.get(reverse("gifts:earnings_csv"))
    assert by_day["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(by_day.content.decode())))
    assert rows[0] == ["day", "sends", "gifts", "coins", "diamonds", "unique_gifters", "top_gift"]
    assert rows[1][1:] == ["2", "11", "549", "274", "1", "crown"]
    by_stream = client.get(reverse("gifts:earnings_csv"), {"by": "stream"})
    rows = list(csv.reader(io.StringIO(by_stream.content.decode())))
    assert rows[1][:2] == [str(live_room.current_stream_id), live_room.slug]


def test_staff_top_up_coins_in_admin(client, dave, bob):
    dave.is_superuser = True
    dave.save()
    client.force_login(dave)
    url = reverse("admin:gifts_balance_top_up")
    page = client.get(url).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    data = {"username": "bob", "amount": 300, "reason": "Contest prize", "idempotency_key": key}
    assert client.post(url, data).status_code == 302
    client.post(url, data)  # a double submit grants once
    assert coins.wallet_of(bob).coins == 300
    assert Transfer.objects.get().initiator == dave


def test_a_top_up_for_nobody_is_refused(client, dave):
    dave.is_superuser = True
    dave.save()
    client.force_login(dave)
    data = {"username": "ghost", "amount": 300, "reason": "x", "idempotency_key": new_key()}
    assert (
        "No user has this name"
        in client.post(reverse("admin:gifts_balance_top_up"), data).content.decode()
    )


def test_admin_lists_gifts_and_money_records(client, dave, rich_bob, live_room, catalog):
    sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    dave.is_superuser = True
    dave.save()
    client.force_login(dave)
    for model in ("gift", "balance", "transfer", "ledgerentry", "giftsend"):
        assert client.get(reverse(f"admin:gifts_{model}_changelist")).status_code == 200


def test_a_site_that_is_no_demo_sells_no_free_coins(client, bob, settings):
    settings.GIFTS_DEMO_PAYMENTS = False
    client.force_login(bob)
    page = client.get(reverse("gifts:buy_coins")).content.decode()
    assert "payments are not set up" in page
    assert "Buy 70 coins" not in page
    data = {"package": "coins-350", "idempotency_key": "a" * 32}
    response = client.post(reverse("gifts:buy"), data, follow=True)
    assert "payments are not set up" in response.content.decode()
    assert coins.wallet_of(bob).coins == 0
    assert not Transfer.objects.filter(kind="purchase").exists()
