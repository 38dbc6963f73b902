"""/api/v1/inventory/{itemId}: availability from the hot cache; ADMIN sets capacity/price."""

from __future__ import annotations

from schemas.base import Money as ContractMoney
from schemas.codec import encode
from schemas.command_ids import action_id
from schemas.inventory_commands import SetCapacity

from ..exceptions import NotFound
from ..http import HttpRequest, HttpResponse, json_response, path
from ..models import CommandAccepted, SetInventoryRequest
from ..services import Services
from .common import kafka_headers


async def get_item(req: HttpRequest, svc: Services) -> HttpResponse:
    item = await svc.reads.item(req.params["itemId"])
    if item is None:
        raise NotFound("no such item", code="ITEM_NOT_FOUND")
    return json_response(200, item)


async def set_item(req: HttpRequest, svc: Services) -> HttpResponse:
    body: SetInventoryRequest = req.body
    item_id = req.params["itemId"]
    price = ContractMoney(body.price.amount_minor, body.price.currency) if body.price else None
    command = SetCapacity(
        message_id=action_id("set-capacity", req.user.sub, item_id, req.idempotency_key),
        item_id=item_id,
        capacity=body.capacity,
        price=price,
        requested_by=req.user.sub,
    )
    await svc.producer.send(
        svc.topics.inventory_commands, item_id, encode(command), kafka_headers(req)
    )
    accepted = CommandAccepted(command_id=command.message_id, item_id=item_id)
    return json_response(202, accepted, {"Location": path("/api/v1/inventory/{}", item_id)})
