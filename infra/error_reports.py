"""What a debug error page and an error e-mail may show of the settings.

Django hides settings whose names look secret (KEY, PASS, TOKEN...), but a
service URL carries its password inside the value: `DATABASE_URL`,
`REDIS_URL`, `CELERY_BROKER_URL`, `CELERY_RESULT_BACKEND` (through Sentinel, a
`sentinel://:password@...` address). These are hidden too, by name, including
any request variable (WSGI passes the environment through) that looks like one.
"""

import re

from django.views.debug import SafeExceptionReporterFilter


class SettingsHidingFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|DATABASE|BROKER|LOCATION"
        "|RESULT_BACKEND",
        flags=re.IGNORECASE,
    )
