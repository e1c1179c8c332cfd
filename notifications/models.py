"""SMS messages (the outbox) and inbound replies. Built out by the notifications issue."""
