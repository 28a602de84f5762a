"""The audit chain's head row must exist before the first event: writers lock it, never create it."""

from django.db import migrations

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):
    head_model = apps.get_model("safecam", "AuditChainHead")
    head_model.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})


class Migration(migrations.Migration):
    dependencies = [("safecam", "0001_initial")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
