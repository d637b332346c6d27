"""The client's address behind our own proxies, never one a client wrote itself."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from ventanilla.core.http import client_address


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_proxies_the_connection_address_counts():
    # a client-written X-Forwarded-For is ignored
    assert client_address(request_from("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_its_view_of_the_client_counts():
    assert client_address(request_from("10.0.0.2", "203.0.113.7")) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_spoofed_address_on_the_left_is_not_trusted():
    # the client sent "X-Forwarded-For: 198.51.100.1"; our proxy appended the real address
    assert client_address(request_from("10.0.0.2", "198.51.100.1, 203.0.113.7")) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_the_outer_ones_view_counts():
    assert client_address(request_from("10.0.0.3", "198.51.100.1, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=2)
@pytest.mark.parametrize("forwarded", [None, "", " , ", "203.0.113.7"])
def test_a_short_chain_falls_back_to_the_connection_address(forwarded):
    assert client_address(request_from("10.0.0.3", forwarded)) == "10.0.0.3"
