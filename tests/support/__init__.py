"""What the test suite needs beside the product: real servers and a browser to drive.

`servers` starts real processes for a test (a Celery worker on a private queue,
daphne, a private Redis) and stops them; `browser` launches headless Chromium
through Playwright. Nothing in the product imports this package.
"""
