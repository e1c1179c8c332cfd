from django.db import migrations

ROLES = ["administrators", "schedulers"]
TIERS = [
    {"code": "standard", "name": "Standard", "max_wait_days": 14, "rank": 10},
    {"code": "urgent", "name": "Urgent", "max_wait_days": 3, "rank": 20},
]


def seed(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    UrgencyTier = apps.get_model("practice", "UrgencyTier")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    for tier in TIERS:
        UrgencyTier.objects.get_or_create(code=tier["code"], defaults=tier)


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
