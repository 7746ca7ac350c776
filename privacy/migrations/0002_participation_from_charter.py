"""Everyone who accepted a charter before participation was recorded has joined: one
Participation per person, joined when they first accepted, at the latest version they
accepted."""

from django.db import migrations
from django.db.models import Max, Min


def forwards(apps, schema_editor):
    CharterAcceptance = apps.get_model("content", "CharterAcceptance")
    Participation = apps.get_model("privacy", "Participation")
    rows = (
        CharterAcceptance.objects.filter(user__organization__isnull=False)
        .values("user_id", "user__organization_id")
        .annotate(first=Min("accepted_at"), version=Max("version"))
        .order_by("user_id")
    )
    batch = []
    for row in rows.iterator():
        batch.append(
            Participation(
                user_id=row["user_id"],
                organization_id=row["user__organization_id"],
                joined_at=row["first"],
                charter_version=row["version"],
            )
        )
        if len(batch) >= 1000:
            Participation.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Participation.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("content", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
