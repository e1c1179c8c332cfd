from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from booking.signals import visit_events_committed
        from locations import patient_notices
        from notifications.tasks import events_committed, stranded_notify

        # Booking announces its events without knowing who listens: texts are our reaction.
        visit_events_committed.connect(events_committed, dispatch_uid="notifications.events_committed")
        # A closure that strands visits asks us to tell their patients.
        patient_notices.register(stranded_notify=stranded_notify)
