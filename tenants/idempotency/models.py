from django.db import models


class IdempotencyRecord(models.Model):
    """
    The stored outcome of a POST sent with an `Idempotency-Key`.

    Scoped by shop schema and caller, so two shops (or two API keys) may use the
    same key. It is written in the transaction of the request it answers, so a
    request in flight has none (its advisory lock tells racers it is there). A
    shop's records are in its own schema (its write stays on its node on
    Citus); the platform host's are in public.
    """

    schema_name = models.CharField(max_length=63)
    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2000)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.BinaryField(null=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "tenants_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(
                fields=["schema_name", "principal", "key"], name="idempotency_scope_key_unique"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.schema_name}:{self.principal}:{self.key}"
