"""Record-access rows are looked up by patient (and time) only, for their audit sequence numbers:
one covering index `(patient_id, at, audit_seq)` replaces `(patient_id, at)` and the unused
`(audit_seq)`, so each of the rows every audited read writes keeps one index fewer. The new index
is built before the old ones go."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("emr", "0004_value_indexes_end_in_resource")]

    operations = [
        migrations.AddIndex(
            model_name="recordaccess",
            index=models.Index(
                fields=["patient_id", "at", "audit_seq"], name="emr_access_patient_seq"
            ),
        ),
        migrations.RemoveIndex(model_name="recordaccess", name="emr_access_patient"),
        migrations.RemoveIndex(model_name="recordaccess", name="emr_access_seq"),
    ]
