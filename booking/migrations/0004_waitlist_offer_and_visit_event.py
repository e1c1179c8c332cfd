"""Waitlist offers become booking's (their table stays `notifications_waitlistoffer`, so no row
moves), and booking records visit events for notifications to react to."""

import django.db.models.deletion
from django.db import migrations, models


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    # Admin permissions and log entries follow the model to its new app.
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model="waitlistoffer").exists():
        ContentType.objects.using(db).filter(app_label=old, model="waitlistoffer").update(app_label=new)


def forwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "notifications", "booking")


def backwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "booking", "notifications")


class Migration(migrations.Migration):

    dependencies = [
        ("booking", "0003_surgeon_in_locations"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("notifications", "0002_message_to_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WaitlistOffer",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("status", models.CharField(choices=[("open", "Open"), ("accepted", "Accepted"), ("gone", "Gone")], default="open", max_length=20)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("answered_at", models.DateTimeField(blank=True, null=True)),
                        ("booked", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="booking.appointment")),
                        ("entry", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="offers", to="booking.waitlistentry")),
                        ("freed", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="waitlist_offers", to="booking.appointment")),
                    ],
                    options={
                        "db_table": "notifications_waitlistoffer",
                        "ordering": ["-created_at", "-id"],
                        "constraints": [
                            models.UniqueConstraint(fields=("entry", "freed"), name="waitlist_offer_once_per_slot"),
                            models.UniqueConstraint(condition=models.Q(("status", "accepted")), fields=("freed",), name="waitlist_offer_one_winner_per_slot"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
        migrations.CreateModel(
            name="VisitEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("booked", "Booked"), ("rescheduled", "Rescheduled"), ("cancelled", "Cancelled"), ("slot_freed", "Slot Freed"), ("slot_taken", "Slot Taken")], max_length=20)),
                ("payload", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("handled_at", models.DateTimeField(blank=True, null=True)),
                ("appointment", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="events", to="booking.appointment")),
            ],
            options={
                "ordering": ["created_at", "id"],
                "indexes": [models.Index(condition=models.Q(("handled_at", None)), fields=["created_at"], name="visit_event_unhandled")],
            },
        ),
    ]
