"""Practice-wide reference data: appointment types and urgency tiers; and idempotency."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

code_validator = RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", "Use lowercase letters, digits, - and _.")


class AppointmentType(models.Model):
    code = models.CharField(max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5), MaxValueValidator(600)])
    buffer_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(240)])
    min_notice_hours = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(24 * 60)])
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5), name="appointment_type_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UrgencyTier(models.Model):
    """How fast a patient must be seen. A higher rank is more urgent."""

    code = models.CharField(max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100)
    max_wait_days = models.PositiveIntegerField(validators=[MaxValueValidator(365)])
    rank = models.PositiveIntegerField(unique=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-rank"]

    def __str__(self) -> str:
        return self.name


class IdempotencyKey(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.key


class AuthToken(models.Model):
    """One API login (one device): the sha256 of a random secret that only the client holds.

    It expires after AUTH_TOKEN_IDLE_HOURS without use and AUTH_TOKEN_MAX_DAYS after login."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    key_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the secret, hex.")
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(help_text="Updated at most once a minute.")

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user_id}"


class LoginFailure(models.Model):
    """One refused login, counted per username and per IP address to lock out password guessing.

    In the database, not the per-process cache, so every worker sees the same count."""

    class Kind(models.TextChoices):
        USERNAME = "username"
        IP = "ip"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=150, help_text="The username (lowercased) or the IP address.")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "created_at"], name="login_failure_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} at {self.created_at:%Y-%m-%d %H:%M}"


class AuditAction(models.TextChoices):
    READ = "read"
    LIST = "list"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class AuditEntry(models.Model):
    """One access to patient data through the API, append-only (issue 12).

    A list writes one row per object it returned. The kernel knows no booking models: the object
    is a type name and an id, the patient an id. Rows are written by `practice.audit` and never
    changed: neither the API nor the admin offers a change or a delete.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField(null=True, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["patient_id", "at"], name="audit_patient_at"),
            models.Index(fields=["user", "at"], name="audit_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"
