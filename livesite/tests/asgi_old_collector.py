"""livesite.asgi as it was before `gc.freeze()`: the cyclic collector's thresholds raised.

With these, a connection left to the collector stayed open for thousands of requests;
test_database_connections.py serves this to show connections no longer wait for it.
"""

import gc

from livesite.asgi import application  # noqa: F401 -- what daphne serves

gc.set_threshold(50_000, 20, 10)
