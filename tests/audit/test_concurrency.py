import threading

import pytest
from django.db import connections

from yunyi.audit.models import AuditEntry
from yunyi.audit.selectors import ChainReport, audit_chain_verify
from yunyi.audit.services import AuditContext, audit_record

THREADS = 6
PER_THREAD = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_many_connections_form_a_gapless_intact_chain() -> None:
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(PER_THREAD):
                audit_record(
                    context=AuditContext(actor_id=f"worker-{worker}"),
                    action="test.append",
                    object_id=f"{worker}-{n}",
                )
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=append, args=(w,)) for w in range(THREADS)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert failures == []
    total = THREADS * PER_THREAD
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    assert set(AuditEntry.objects.values_list("object_id", flat=True)) == {
        f"{w}-{n}" for w in range(THREADS) for n in range(PER_THREAD)
    }
    assert audit_chain_verify() == ChainReport(entries=total, broken=None)
