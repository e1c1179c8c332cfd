from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from booking.signals import visit_events_committed
        from notifications.tasks import events_committed

        # Booking announces its events without knowing who listens: texts are our reaction.
        visit_events_committed.connect(events_committed, dispatch_uid="notifications.events_committed")
