from django.db import models


class OrderCount(models.Model):
    """The shop's orders counted against its plan in one billing period (a calendar month, UTC)."""

    period = models.DateField(unique=True, help_text="First day of the month.")
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}: {self.orders}"
