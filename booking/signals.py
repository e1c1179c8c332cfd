"""What booking announces. Booking imports nothing above it: whoever reacts (notifications)
connects here, and the event rows, not this signal, are the record (a lost signal is a delay)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the commit that wrote visit events, with `event_ids` (a list of VisitEvent ids).
visit_events_committed = Signal()
