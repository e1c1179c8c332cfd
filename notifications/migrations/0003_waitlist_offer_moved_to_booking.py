"""Waitlist offers are booking's now (booking 0004): only Django's idea of the model moves."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("booking", "0004_waitlist_offer_and_visit_event"),
        ("notifications", "0002_message_to_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="offer",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="sms_messages", to="booking.waitlistoffer"),
                ),
                migrations.DeleteModel(name="WaitlistOffer"),
            ],
            database_operations=[],
        ),
    ]
