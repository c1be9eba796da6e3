from django.apps import AppConfig


class EmrConfig(AppConfig):
    name = "yunyi.emr"
    label = "emr"
    verbose_name = "Electronic medical record"

    def ready(self) -> None:
        # accounts may not import the record: it announces verified identities instead.
        from yunyi.accounts.signals import real_name_verified
        from yunyi.emr.care import patient_record_on_verification

        real_name_verified.connect(
            patient_record_on_verification, dispatch_uid="emr.patient_record_on_verification"
        )
