"""The LLI-457 project record, its partners' budgets and its output indicators (reports.seed)."""

from django.db import migrations


def seed(apps, schema_editor):
    from reports.seed import project_seed

    project_seed(apps.get_model("reports", "Project"), apps.get_model("reports", "Partner"),
                 apps.get_model("reports", "Indicator"))


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
