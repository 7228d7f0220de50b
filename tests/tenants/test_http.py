"""Typed access to the request's shop and platform user (tenants.http), for Django's and DRF's requests."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from rest_framework.request import Request

from tenants.http import request_shop, request_shop_or_none, request_user
from tenants.middleware import PUBLIC_TENANT
from tenants.models import Shop, User


def _request(**attributes: object) -> Request:
    django_request = RequestFactory().get("/")
    for name, value in attributes.items():
        setattr(django_request, name, value)
    return Request(django_request)


def test_the_shop_of_a_shop_host_is_read_through_either_request() -> None:
    shop = Shop(schema_name="shop_alpha", name="Alpha")
    drf_request = _request(tenant=shop)
    assert request_shop(drf_request) is shop
    assert request_shop(drf_request._request) is shop
    assert request_shop_or_none(drf_request) is shop


@pytest.mark.parametrize("tenant", [PUBLIC_TENANT, None])
def test_the_platform_host_has_no_shop(tenant: object) -> None:
    request = _request(tenant=tenant) if tenant is not None else _request()
    assert request_shop_or_none(request) is None
    with pytest.raises(LookupError):
        request_shop(request)


def test_the_signed_in_platform_user_is_read_and_anyone_else_refused() -> None:
    user = User(email="owner@example.com")
    request = _request()
    request.user = user  # what authentication sets
    assert request_user(request) is user
    request.user = AnonymousUser()
    with pytest.raises(LookupError):
        request_user(request)
