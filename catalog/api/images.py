"""Admin API for product images: start an upload, confirm it, list, change alt text, reorder, delete."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from billing.api.schema import PLAN_LIMIT
from catalog import images, selectors
from catalog.api import serializers as s
from catalog.api.views import CatalogAdminView
from tenants.api.auth import request_actor

UPLOAD_DESCRIPTION = """
Record a pending image and answer how to send its bytes straight to object storage:

- `upload.method` `POST` (S3): a `multipart/form-data` POST to `upload.url` with every
  entry of `upload.fields`, then the file as the last field, named `file`;
- `upload.method` `PUT` (local storage): a PUT to `upload.url` with `upload.headers`
  and the bytes as the body.

The URL accepts only the declared content type and at most the configured size, until
`upload.expires_at`. Then call `confirm`; a worker makes the thumbnail.
"""


class AdminImageListView(CatalogAdminView):
    @extend_schema(
        responses=s.ImageOutput(many=True),
        operation_id="admin_images_list",
        summary="List a product's images, pending ones included",
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        paginator = self.paginator
        paginator.ordering = ("position", "id")  # type: ignore[union-attr]  # the order shoppers see
        page = paginator.paginate_queryset(product.images.all(), request, view=self) or []  # type: ignore[union-attr]
        return self.get_paginated_response(self.output(s.ImageOutput, page, many=True))

    @extend_schema(
        request=s.ImageUploadInput,
        responses={201: s.ImageUploadOutput, 402: PLAN_LIMIT},
        operation_id="admin_images_create",
        summary="Start an image upload",
        description=UPLOAD_DESCRIPTION,
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        data = self.valid(s.ImageUploadInput, request.data)
        image, upload = images.image_upload_start(actor=request_actor(request), product=product, **data)
        form = {name: value for name, value in asdict(upload).items() if value is not None}
        form["url"] = request.build_absolute_uri(upload.url)  # S3's URL is absolute already
        return Response(
            s.ImageUploadOutput(image, context={"upload": form}).data, status=status.HTTP_201_CREATED
        )


class AdminImageDetailView(CatalogAdminView):
    @extend_schema(responses=s.ImageOutput, operation_id="admin_images_retrieve", summary="Get an image")
    def get(self, request: Request, product_id: int, image_id: int) -> Response:
        image = selectors.access_image_by_id(product_id=product_id, image_id=image_id)
        return Response(self.output(s.ImageOutput, image))

    @extend_schema(
        request=s.ImageUpdateInput,
        responses=s.ImageOutput,
        operation_id="admin_images_update",
        summary="Change an image's alt text",
        description="The alt text is what screen readers and search engines read for the image; "
        "the storefront shows the change once its product is refreshed.",
    )
    def patch(self, request: Request, product_id: int, image_id: int) -> Response:
        data = self.valid(s.ImageUpdateInput, request.data)  # a body that cannot be read is refused first
        image = selectors.access_image_by_id(product_id=product_id, image_id=image_id)
        if "alt" in data:  # a PATCH without it changes nothing
            image = images.image_update(actor=request_actor(request), image=image, alt=data["alt"])
        return Response(self.output(s.ImageOutput, image))

    @extend_schema(
        responses={204: None},
        operation_id="admin_images_delete",
        summary="Delete an image and its stored files",
    )
    def delete(self, request: Request, product_id: int, image_id: int) -> Response:
        image = selectors.access_image_by_id(product_id=product_id, image_id=image_id)
        images.image_delete(actor=request_actor(request), image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminImageConfirmView(CatalogAdminView):
    @extend_schema(
        request=None,
        responses={200: s.ImageOutput, 402: PLAN_LIMIT},
        operation_id="admin_images_confirm",
        summary="Confirm an uploaded image",
        description="Checks the stored file (409 if nothing was uploaded, 400 and deleted if it is "
        "too large or of another type), makes the image ready and queues its thumbnail. "
        "Confirming a ready image again changes nothing.",
    )
    def post(self, request: Request, product_id: int, image_id: int) -> Response:
        image = selectors.access_image_by_id(product_id=product_id, image_id=image_id)
        image = images.image_upload_confirm(actor=request_actor(request), image=image)
        return Response(self.output(s.ImageOutput, image))


class AdminImageReorderView(CatalogAdminView):
    @extend_schema(
        request=s.ImageReorderInput,
        responses={200: s.ImageOutput(many=True)},
        operation_id="admin_images_reorder",
        summary="Reorder a product's images",
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = selectors.access_product_by_id(product_id=product_id)
        data = self.valid(s.ImageReorderInput, request.data)
        ordered = images.image_reorder(actor=request_actor(request), product=product, order=data["order"])
        return Response(self.output(s.ImageOutput, ordered, many=True))
