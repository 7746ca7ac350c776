"""The dashboards' network notes look up the polls that give no metrics, per organisation:
an index instead of a scan of every poll."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_metrics_rollups_settings"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="metricpoll",
            index=models.Index(fields=["organization", "status"], name="metric_poll_org_status"),
        ),
    ]
