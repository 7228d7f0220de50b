"""Who changed what in a shop, and when: one row per write, with before and after."""

from django.db import models


class AuditEntry(models.Model):
    class ActorType(models.TextChoices):
        USER = "user"
        API_KEY = "api_key"
        CUSTOMER = "customer"
        SYSTEM = "system"

    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(
        max_length=255, help_text="The user's e-mail or the key's name, as it was."
    )
    action = models.CharField(max_length=64, help_text="e.g. product.created, variant.price_changed")
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField(null=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}#{self.object_id}"
