"""The visit page: what a patient opens from the link in a text (`/v/<token>`), no login.

Shows the date and place; after the patient's date of birth, the visit's details and three
actions: confirm, cancel (with a reason), or pick another time (rebooked through booking's
reschedule service, as a scheduler would). Every action is recorded (`VisitPageAccess`).
"""
