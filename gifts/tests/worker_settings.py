"""Settings for the Celery workers the worker tests start: the project's, with a broker that
hands a dead worker's unacknowledged task to another worker after 3 seconds instead of an hour."""

from livesite.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
