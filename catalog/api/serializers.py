from rest_framework import serializers

from catalog.models import Product


class ProductOutput(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.ChoiceField(choices=Product.Status.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
