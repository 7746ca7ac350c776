from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("content", "0006_default_approval_chains")]

    operations = [
        migrations.RemoveField(model_name="contentpolicy", name="required_approvals"),
    ]
