"""The Stripe SDK's async HTTP transport, over a pooled httpx client that we own."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import stripe


class StripeHttpxClient(stripe.HTTPClient):
    """The SDK's async transport over a pooled httpx client we own.

    Replaces `stripe.HTTPXClient`, which sends the form body as `data=<str>`: httpx 0.28
    deprecates that, and the SDK turns the warning (an error under `-W error`) into an
    APIConnectionError. Owning the client also lets tests hook and mock the transport.
    """

    name = "httpx"

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__()
        self._client = client

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self._client.request(method, url, headers=headers, content=post_data)
        except httpx.HTTPError as exc:
            message = f"network error: {type(exc).__name__}"
            raise stripe.APIConnectionError(message, should_retry=True) from exc
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Any:
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        await self._client.aclose()
