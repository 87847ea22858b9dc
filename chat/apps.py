from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The room WebSocket: chat messages and history, presence and audience, likes."""

    name = "chat"
    verbose_name = "Chat"
