"""Writes for locations, their hours and closures, and surgeons with their blocks and time off.

One module per concern; the error classes, with their codes, are in `errors`. The validators
(`*_errors`, `block_overlapping`) are pure or read-only so the Django admin's forms call the very
same rules the API does.
"""
