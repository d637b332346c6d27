"""Gateway adapters: how each provider signs, shapes and sends messages. `adapter_for(kind)` picks one."""

from __future__ import annotations

from ventanilla.messaging.gateways.base import Adapter, BadPayload, BadSignature, Inbound, StatusUpdate
from ventanilla.messaging.gateways.generic import GenericJsonAdapter
from ventanilla.messaging.gateways.twilio import TwilioAdapter
from ventanilla.messaging.gateways.whatsapp import WhatsAppCloudAdapter

ADAPTERS: dict[str, Adapter] = {
    "twilio": TwilioAdapter(),
    "generic_json": GenericJsonAdapter(),
    "whatsapp_cloud": WhatsAppCloudAdapter(),
}


def adapter_for(kind: str) -> Adapter | None:
    return ADAPTERS.get(kind)


__all__ = ["ADAPTERS", "Adapter", "BadPayload", "BadSignature", "Inbound", "StatusUpdate", "adapter_for"]
