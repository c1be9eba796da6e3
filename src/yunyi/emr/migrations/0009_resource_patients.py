"""Each current row keeps the ids of the patients whose record it belongs to
(`CurrentResource.patients`), so a search page's audit entry names them without parsing the
documents. A nullable column: adding it rewrites nothing, and rows written before it stay NULL,
which readers take as "derive them from the document"."""

from django.db import migrations

import yunyi.emr.fields


class Migration(migrations.Migration):
    dependencies = [("emr", "0008_documents_as_text")]

    operations = [
        migrations.AddField(
            model_name="currentresource",
            name="patients",
            field=yunyi.emr.fields.PatientIdsField(null=True),
        ),
    ]
