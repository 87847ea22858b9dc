"""Settings for the Celery workers the scoring worker tests start: the project's, with a
classifier whose verdicts the test chooses, and a Redis broker that hands a dead worker's
unacknowledged task to another worker after 3 seconds instead of an hour (RabbitMQ
requeues it as soon as the dead worker's connection closes)."""

from livesite.settings import *  # noqa: F403

MODERATION_CLASSIFIERS = ["moderation.tests.worker_settings.ScriptedClassifier"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405 -- the Redis timeouts stay
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}


class ScriptedClassifier:
    """Scores a message by its first word: "retract" 0.9, "review" 0.6, anything else 0."""

    VERDICTS = {"retract": 0.9, "review": 0.6}

    def score(self, messages):
        from moderation.scoring import Score

        scores = []
        for context in messages:
            value = self.VERDICTS.get(context.text.split(" ", 1)[0], 0.0)
            reason = {"code": "scripted", "message": context.text}
            scores.append(Score(value, (reason,) if value else ()))
        return scores
