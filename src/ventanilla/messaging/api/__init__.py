"""API of two-way communication: conversations (with their messages and replies), contacts and channels.

Conversations and contacts are for message handlers (handle_messages) of their organisation, read
through `visible_to` (a sensitive complaint exists only for designated focal points: elsewhere a 404);
a caseworker finds only the conversations handed (assigned) to them, to register and refer the person;
channels are for administrators (manage_organisation), their credentials write-only.
"""

from ventanilla.messaging.api.channels import ChannelViewSet
from ventanilla.messaging.api.contacts import ContactViewSet
from ventanilla.messaging.api.conversations import ConversationViewSet
from ventanilla.messaging.api.response_times import ResponseTimesViewSet

__all__ = ["ChannelViewSet", "ContactViewSet", "ConversationViewSet", "ResponseTimesViewSet"]
