from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications import receivers
        from rooms.signals import stream_started

        stream_started.connect(receivers.room_went_live, dispatch_uid="notifications.go_live")
