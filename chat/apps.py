from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The room WebSocket: chat messages and history, presence and audience, likes."""

    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Without Redis, events published through realtime reach this process's hubs.
        from chat import hub
        from realtime.publish import deliver_locally_with

        deliver_locally_with(hub.deliver_in_process, hub.deliver_to_users_in_process)
