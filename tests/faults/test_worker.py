"""
A worker SIGKILLed in the middle of a batch, under a stream of orders: nothing
is lost, and what it may have sent without recording it goes again under the
same identity (the e-mail's Message-ID, the webhook's Storefleet-Delivery), so
a receiver sees each once in effect. A replacement worker catches up within
seconds of the relay handing the batch over.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.conf import settings

from tests.conftest import ShopContext
from tests.faults.conftest import Beat, SmtpSink, Workers, report, scaled, wait_for
from tests.faults.support import (
    SHOPPER,
    Shopper,
    all_delivered,
    delivery_state,
    endpoint_add,
    outcome,
)
from tests.webhooks.helpers import Receiver


@pytest.mark.django_db
def test_the_suite_has_a_test_database() -> None:
    """pytest-django creates the test database only for a session with a django_db test."""


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing_in_effect(
    workers: Workers, beat: Beat, smtp_sink: SmtpSink, committed_shop: ShopContext, django_db_blocker, api
) -> None:
    shop = committed_shop
    orders = scaled(6, 40)
    with django_db_blocker.unblock(), Receiver(delay=30).running() as receiver:
        endpoint_add(shop, receiver)
        shopper = Shopper(api, shop)
        shopper.stock()
        workers.extra_env["OUTCOME_RECORD_SECONDS"] = "5"
        workers.start("mail", queues=[settings.CELERY_TASK_DEFAULT_QUEUE])
        workers.start("hooks", queues=[settings.WEBHOOK_QUEUE], concurrency=2)
        workers.wait_ready("mail", "hooks")
        # The mail server holds its answer to the first confirmation; the receiver holds every POST.
        smtp_sink.stall_for = SHOPPER
        numbers = [shopper.order() for _ in range(orders)]
        wait_for(smtp_sink.stalled.is_set, "a confirmation in the middle of its send", logs=workers.logs)
        wait_for(lambda: receiver.in_flight > 0, "a webhook in the middle of its POST", logs=workers.logs)
        workers.started["mail"].kill()  # SIGKILL mid-batch: no warm shutdown, no acknowledgement
        workers.started["hooks"].kill()
        killed_at, killed_wall = time.monotonic(), time.time()
        smtp_sink.stall_for = ""
        smtp_sink.release.set()
        receiver.release.set()
        numbers += [shopper.order() for _ in range(orders)]
        workers.start("mail-2", queues=[settings.CELERY_TASK_DEFAULT_QUEUE])
        workers.start("hooks-2", queues=[settings.WEBHOOK_QUEUE], concurrency=2)
        workers.wait_ready("mail-2", "hooks-2")
        # The killed webhook attempts are tried again when their lease runs out (the time
        # budget, OUTCOME_RECORD_SECONDS and 10 s: 20 s for these workers, 45 s by default).
        wait_for(
            lambda: all_delivered(shop),
            "every e-mail and webhook after the kill",
            90,
            lambda: delivery_state(shop),
        )
        recovered = time.monotonic() - killed_at
        time.sleep(2)

        result = outcome(shop, smtp_sink, receiver)
        email_recovered = max(mail.at for mail in smtp_sink.received) - killed_wall
        # Every order's confirmation and notice arrived; a copy sent again carries the same Message-ID.
        assert set(result.confirmations) == set(result.notices) == set(numbers)
        message_ids = Counter(mail.message_id for mail in smtp_sink.received)
        per_order = Counter(
            (mail.to, mail.subject.split("#")[1].split()[0].rstrip(":"))
            for mail in {m.message_id: m for m in smtp_sink.received}.values()
        )
        assert all(count == 1 for count in per_order.values()), per_order
        # Every order's webhook arrived; a re-sent one carries the same Storefleet-Delivery id.
        deliveries = Counter(request.headers["Storefleet-Delivery"] for request in receiver.received)
        assert set(result.webhooks) == set(numbers) and len(deliveries) == len(numbers)
        report(
            "workers SIGKILLed mid-batch",
            webhooks_recovered_after_s=recovered,
            emails_recovered_after_s=email_recovered,
            emails_sent_again=sum(message_ids.values()) - len(message_ids),
            webhooks_sent_again=sum(deliveries.values()) - len(deliveries),
            **result.figures(),
        )


def test_a_worker_killed_before_the_mail_server_has_a_message_sends_the_rest_and_nothing_twice(
    workers: Workers, beat: Beat, smtp_sink: SmtpSink, committed_shop: ShopContext, django_db_blocker, api
) -> None:
    """Killed mid-batch, before the admin's notice (formerly tests/orders/test_worker_crash.py)."""
    from orders.models import SentEmail
    from tenants.models import Membership
    from tenants.schemas import use_public, use_shop
    from tests.conftest import make_user

    shop = committed_shop
    admin, owner, clerk = "admin@committed.example", shop.owner.email, "clerk@committed.example"
    with django_db_blocker.unblock():
        extra_users = []
        try:
            for address, role in ((admin, Membership.Role.ADMIN), (clerk, Membership.Role.STAFF)):
                extra_users.append(make_user(address))
                Membership.objects.create(user=extra_users[-1], shop=shop.shop, role=role)
            shopper = Shopper(api, shop)
            shopper.stock()
            # Owners and admins are notified in address order: the admin's notice comes after
            # the confirmation and before the owner's.
            smtp_sink.hold_before = admin
            workers.start("mail", queues=[settings.CELERY_TASK_DEFAULT_QUEUE])
            workers.wait_ready("mail")
            shopper.order()
            wait_for(smtp_sink.stalled.is_set, "the admin's notice to be on its way", logs=workers.logs)
            workers.started["mail"].kill()
            assert [mail.to for mail in smtp_sink.received] == [SHOPPER]
            use_shop(shop.shop)
            assert list(SentEmail.objects.values_list("recipient", flat=True)) == [SHOPPER]
            use_public()

            smtp_sink.hold_before = ""
            smtp_sink.release.set()
            workers.start("mail-2", queues=[settings.CELERY_TASK_DEFAULT_QUEUE])
            wait_for(lambda: all_delivered(shop), "the second worker to send the rest", 60, workers.logs)
            time.sleep(1)
            assert Counter(mail.to for mail in smtp_sink.received) == {SHOPPER: 1, admin: 1, owner: 1}
            use_shop(shop.shop)
            assert SentEmail.objects.count() == 3  # the clerk (staff) is not notified
            use_public()
        finally:
            use_public()
            for user in extra_users:
                user.delete()
