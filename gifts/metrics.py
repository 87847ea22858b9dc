"""Leaderboard figures on /metrics, read at scrape time.

The reconcile runs in a Celery worker, whose metrics no one scrapes; it keeps its
result in the shared cache, and this collector reads it in the web process that
serves /metrics (one cache read per scrape).
"""

from prometheus_client.core import GaugeMetricFamily


class LeaderboardDriftCollector:
    def collect(self):
        from gifts.leaderboards import last_drift

        drift = last_drift()
        if drift is None:
            return
        yield GaugeMetricFamily(
            "livesite_gifts_leaderboard_drift_coins",
            "Coins by which the Redis leaderboards differed from the ledger at the last reconcile",
            value=drift,
        )
