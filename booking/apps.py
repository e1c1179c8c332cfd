from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        # Locations sits below booking and may not import it; it asks about booked visits
        # through its port, and booking answers here.
        from booking.selectors import appointment_conflicts, future_appointments_exist
        from locations import visits

        visits.register(conflicts=appointment_conflicts, future_visits_exist=future_appointments_exist)
