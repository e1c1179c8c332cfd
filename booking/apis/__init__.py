"""Booking's HTTP views, one module per area (slots, reports, conflicts, patients, appointments, waitlist)."""
