from django.apps import AppConfig


class StreamingConfig(AppConfig):
    """RTMP ingest, the PyAV transcoder, HLS packaging and the origin."""

    name = "streaming"
    verbose_name = "Streaming"
