"""The surgeon now lives in `locations` (see locations 0003): practice forgets its model, and the
tables stay, as the moved model's own."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('locations', '0003_surgeon_from_practice'),
        ('practice', '0002_roles_and_tiers'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Dropping nothing: `practice_surgeon` and `practice_historicalsurgeon` hold the surgeons.
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(
                    name='HistoricalSurgeon',
                ),
                migrations.DeleteModel(
                    name='Surgeon',
                ),
            ],
        ),
    ]
