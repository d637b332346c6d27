"""The demo channels and conversations for `ventanilla load-demo` — every person and message fictional.

Casa Ventana gets four channels: SMS and WhatsApp through the repo's fake gateway
(`ventanilla fake-gateway`, http://127.0.0.1:8025/), a hotline desk and the web feedback form. About
fifteen conversations in Spanish, French, Arabic and English arrive through `ingest.record_inbound`, the
entry every real message takes (so languages are detected, contacts created and the urgent one raises its
alert); the past answers are written as they would have been sent. There are reply templates in four
languages, a duty shift for the site manager, who is also the designated focal point for sensitive
complaints. Loading is idempotent: a channel, template or conversation that is already there is left as
it is.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ventanilla.accounts.models import Membership, Organisation, Site, User
from ventanilla.areas.models import AdministrativeArea
from ventanilla.messaging import alerts, ingest, response_times
from ventanilla.messaging.models_inbox import (
    Category,
    Conversation,
    ConversationStatus,
    Direction,
    DutyShift,
    Gateway,
    GatewayKind,
    Medium,
    Message,
    MessageStatus,
    ReplyTemplate,
    ResponseTimes,
)

ORGANISATION = "Casa Ventana (fictional NGO)"
SITE = "Centro de Atención Tapachula"
SITE_MANAGER = "casa_site_manager"
OFFICER = "casa_information_officer"
ADMINISTRATOR = "casa_administrator"
CASEWORKER = "casa_caseworker"
# A fictional number for the site manager's urgent-alert SMS, which then show on the fake gateway.
SITE_MANAGER_PHONE = "+529625550190"

FAKE_GATEWAY = "http://127.0.0.1:8025"
DEMO_SECRET = "demo-fake-gateway-secret"  # noqa: S105 - the demo's fake gateway on 127.0.0.1 only
SMS_CHANNEL = "SMS 962 100 0000 (demo, fake gateway)"
WHATSAPP_CHANNEL = "WhatsApp 962 100 0001 (demo, fake gateway)"
HOTLINE_CHANNEL = "Línea de ayuda (demo)"
WEB_CHANNEL = "Formulario web (demo)"


@dataclass(frozen=True)
class DemoChannel:
    name: str
    kind: str
    medium: str
    address: str = ""
    send_path: str = ""  # on the fake gateway


CHANNELS = (
    DemoChannel(SMS_CHANNEL, GatewayKind.GENERIC_JSON, Medium.SMS, "+529621000000", "/send"),
    DemoChannel(
        WHATSAPP_CHANNEL, GatewayKind.GENERIC_JSON, Medium.WHATSAPP, "+529621000001", "/whatsapp/send"
    ),
    DemoChannel(HOTLINE_CHANNEL, GatewayKind.HOTLINE, Medium.HOTLINE, "+528000000000"),
    DemoChannel(WEB_CHANNEL, GatewayKind.WEB_FORM, Medium.WEB),
)


@dataclass(frozen=True)
class DemoConversation:
    key: str
    channel: str
    sender: str  # "" for an anonymous web form
    text: str
    hours_ago: float
    category: str
    topics: tuple[str, ...] = ()
    status: str = ConversationStatus.NEW
    answer: str = ""  # sent an hour after the message
    assigned: str = ""
    call_minutes: int | None = None
    call_outcome: str = ""


CONVERSATIONS = (
    DemoConversation(
        "shelter-question",
        SMS_CHANNEL,
        "+529625550301",
        "Hola, ¿dónde hay un albergue para una familia con niños en Tapachula?",
        50,
        Category.QUESTION,
        ("shelter",),
        ConversationStatus.ANSWERED,
        "Hola. El Albergue Demo San José (Tapachula) recibe familias las 24 horas. Escriba AYUDA para "
        "recibir la lista de servicios cercanos.",
        OFFICER,
    ),
    DemoConversation(
        "border-rumour",
        SMS_CHANNEL,
        "+529625550302",
        "Dicen que el lunes cierran la frontera en Ciudad Hidalgo, ¿es cierto?",
        30,
        Category.RUMOUR,
        ("border", "rumour"),
        ConversationStatus.ANSWERED,
        "No hay ningún anuncio oficial de cierre de la frontera. Verifique siempre con fuentes oficiales o "
        "con nosotros antes de moverse.",
        OFFICER,
    ),
    DemoConversation(
        "asylum-question",
        WHATSAPP_CHANNEL,
        "+529625550303",
        "Bonjour, où puis-je faire une demande d'asile à Tapachula ? Je parle français et créole.",
        5,
        Category.QUESTION,
        ("asylum",),
    ),
    DemoConversation(
        "medical-question",
        SMS_CHANNEL,
        "+529625550304",
        "مرحبا، أين يمكنني الحصول على رعاية طبية مجانية في تاباتشولا؟",
        26,
        Category.QUESTION,
        ("health",),
        ConversationStatus.ANSWERED,
        "مرحبا. تقدم عيادة Red Salud Frontera رعاية طبية مجانية. أرسل مساعدة لتلقي قائمة الخدمات القريبة.",
        OFFICER,
    ),
    DemoConversation(
        "queue-complaint",
        WEB_CHANNEL,
        "",
        "The queue at the registration desk was five hours long and nobody explained anything to us.",
        20,
        Category.COMPLAINT,
        ("registration", "waiting time"),
        ConversationStatus.IN_PROGRESS,
        assigned=SITE_MANAGER,
    ),
    DemoConversation(
        "staff-fraud",
        WEB_CHANNEL,
        "",
        "Un trabajador del albergue me pidió dinero para ponerme en la lista de espera.",
        12,
        Category.SENSITIVE,
        ("fraud by staff",),
        ConversationStatus.IN_PROGRESS,
        assigned=SITE_MANAGER,
    ),
    # From the number of a registered demo person (Rosa Elena, "family-mother"): the conversation page
    # offers her record, to link it and refer her daughter's fever to a clinic (`messaging.handover`).
    DemoConversation(
        "family-fever",
        WHATSAPP_CHANNEL,
        "+50499887766",
        "Buenas, soy Rosa. Mi hija Daniela tiene fiebre alta desde ayer y no tenemos dinero para la "
        "farmacia. ¿A dónde la llevo?",
        3,
        Category.HELP,
        ("health",),
        ConversationStatus.IN_PROGRESS,
        assigned=SITE_MANAGER,
    ),
    # Handed over: the information officer, who registers nobody, assigned it to the caseworker, whose
    # inbox lists it alone (sign in as casa_caseworker), to register the man and refer him.
    DemoConversation(
        "unpaid-wages",
        SMS_CHANNEL,
        "+529625550319",
        "Trabajo en una finca y el patrón no me paga desde hace dos meses. Quiero poner una queja, "
        "¿quién me puede acompañar?",
        6,
        Category.HELP,
        ("work",),
        ConversationStatus.IN_PROGRESS,
        assigned=CASEWORKER,
    ),
    DemoConversation(
        "thanks-papers",
        SMS_CHANNEL,
        "+529625550305",
        "Muchas gracias por la ayuda con los papeles, ya tengo mi cita.",
        70,
        Category.THANKS,
        (),
        ConversationStatus.CLOSED,
    ),
    DemoConversation(
        "passport-taken",
        SMS_CHANNEL,
        "+529625550306",
        "Me quitaron el pasaporte en el hotel de la calle 5 y no me dejan salir",
        0.5,
        Category.HELP,
        ("documents", "exploitation"),
    ),
    DemoConversation(
        "hotline-curp",
        HOTLINE_CHANNEL,
        "+529625550307",
        "Llamada: pregunta por los requisitos de la CURP temporal y el horario de la oficina.",
        8,
        Category.QUESTION,
        ("documentation",),
        ConversationStatus.CLOSED,
        call_minutes=6,
        call_outcome="informed",
    ),
    DemoConversation(
        "bus-rumour",
        WHATSAPP_CHANNEL,
        "+529625550308",
        "سمعت أن الحافلات إلى مدينة مكسيكو مجانية هذا الأسبوع، هل هذا صحيح؟",
        16,
        Category.RUMOUR,
        ("transport", "rumour"),
    ),
    DemoConversation(
        "clinic-feedback",
        SMS_CHANNEL,
        "+529625550309",
        "Le médecin de la clinique était très gentil, merci beaucoup.",
        40,
        Category.SERVICE_FEEDBACK,
        ("health",),
        ConversationStatus.ANSWERED,
        "Merci pour votre message, nous le transmettons à la clinique.",
        OFFICER,
    ),
    DemoConversation(
        "water-question",
        SMS_CHANNEL,
        "+529625550310",
        "Hi, is there a place where I can get drinking water and charge my phone near the central park?",
        30,
        Category.QUESTION,
        ("water",),
    ),
    DemoConversation(
        "sick-child",
        WHATSAPP_CHANNEL,
        "+529625550311",
        "Necesito ayuda, mi hija está enferma y no tengo dinero para medicinas.",
        3,
        Category.HELP,
        ("health", "children"),
        ConversationStatus.IN_PROGRESS,
        assigned=OFFICER,
    ),
    DemoConversation(
        "visa-rumour",
        SMS_CHANNEL,
        "+529625550312",
        "¿Es verdad que están regalando visas humanitarias en la oficina del centro?",
        22,
        Category.RUMOUR,
        ("documentation", "rumour"),
        ConversationStatus.ANSWERED,
        "No es cierto: las visas no se regalan ni se venden. Cuidado con quien le pida dinero. Venga a "
        "Casa Ventana para información gratuita.",
        OFFICER,
    ),
    DemoConversation(
        "phone-complaint",
        SMS_CHANNEL,
        "+529625550313",
        "انتظرت طوال اليوم ولم يرد أحد على الهاتف",
        28,
        Category.COMPLAINT,
        ("waiting time",),
    ),
    DemoConversation(
        "web-thanks",
        WEB_CHANNEL,
        "",
        "Merci pour les informations claires sur le site, elles nous ont beaucoup servi.",
        60,
        Category.THANKS,
    ),
)

TEMPLATES = {
    "shelter_info": {
        "es": "Hay albergues abiertos en Tapachula. Escriba AYUDA para recibir la lista de servicios "
        "cercanos.",
        "fr": "Il y a des centres d'hébergement ouverts à Tapachula. Écrivez AIDE pour recevoir la liste.",
        "ar": "توجد مراكز إيواء مفتوحة في تاباتشولا. أرسل مساعدة لتلقي قائمة الخدمات القريبة.",
        "en": "There are shelters open in Tapachula. Send INFO to get the list of services near you.",
    },
    "rumour_check": {
        "es": "Gracias por preguntar. No hay ningún anuncio oficial sobre eso. Verifique con fuentes "
        "oficiales.",
        "fr": "Merci de demander. Il n'y a aucune annonce officielle à ce sujet. Vérifiez auprès de sources "
        "officielles.",
        "ar": "شكرا لسؤالك. لا يوجد أي إعلان رسمي بهذا الشأن. تحقق دائما من المصادر الرسمية.",
        "en": "Thank you for asking. There is no official announcement about this. Always check official "
        "sources.",
    },
    "complaint_received": {
        "es": "Recibimos su queja. Una persona responsable la revisará y le responderá en 48 horas.",
        "fr": "Nous avons reçu votre plainte. Une personne responsable l'examinera et vous répondra "
        "sous 48 h.",
        "ar": "لقد استلمنا شكواك. سيراجعها شخص مسؤول ويرد عليك خلال 48 ساعة.",
        "en": "We received your complaint. Someone responsible will review it and answer within 48 hours.",
    },
    "thanks": {
        "es": "¡Gracias por su mensaje! Estamos para ayudarle.",
        "fr": "Merci pour votre message ! Nous sommes là pour vous aider.",
        "ar": "شكرا على رسالتك! نحن هنا لمساعدتك.",
        "en": "Thank you for your message! We are here to help.",
    },
}


@dataclass
class DemoMessagingResult:
    channels_created: int = 0
    conversations_created: int = 0
    templates_created: int = 0
    skipped: list[str] = field(default_factory=list)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _channels(
    organisation: Organisation, site: Site | None, result: DemoMessagingResult
) -> dict[str, Gateway]:
    found: dict[str, Gateway] = {}
    for spec in CHANNELS:
        existing = Gateway.objects.filter(organisation=organisation, name=spec.name).first()
        if existing is None:
            existing = Gateway.objects.create(
                organisation=organisation,
                site=site,
                name=spec.name,
                kind=spec.kind,
                medium=spec.medium,
                address=spec.address,
                send_url=f"{FAKE_GATEWAY}{spec.send_path}" if spec.send_path else "",
                credentials=json.dumps({"secret": DEMO_SECRET}) if spec.send_path else "",
            )
            result.channels_created += 1
        found[spec.name] = existing
    return found


def _duty(organisation: Organisation, now: datetime.datetime) -> None:
    manager, administrator = _user(SITE_MANAGER), _user(ADMINISTRATOR)
    if manager is None or administrator is None:
        return
    if not manager.phone:
        manager.phone = SITE_MANAGER_PHONE
        manager.save(update_fields=["phone", "phone_index"])
    Membership.objects.filter(user=manager, organisation=organisation, role="site_manager").update(
        handles_sensitive_complaints=True
    )
    # Once only, like every demo row: after it ends, alerts go to the site's managers, the same person.
    if not DutyShift.objects.filter(organisation=organisation, user=manager).exists():
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        alerts.add_shift(
            organisation.pk,
            user=manager,
            starts_at=start,
            ends_at=start + datetime.timedelta(days=30),
            by=administrator,
        )


def _conversation(
    spec: DemoConversation, channel: Gateway, area: AdministrativeArea | None, now: datetime.datetime
) -> bool:
    provider_id = f"demo-{spec.key}"
    if Message.objects.filter(conversation__gateway=channel, provider_id=provider_id).exists():
        return False
    at = now - datetime.timedelta(hours=spec.hours_ago)
    officer = _user(OFFICER)
    by = officer if channel.kind in {GatewayKind.HOTLINE, GatewayKind.SOCIAL} else None
    message = ingest.record_inbound(
        channel,
        sender=spec.sender,
        text=spec.text,
        provider_id=provider_id,
        medium=channel.medium,
        at=at,
        by=by,
    )
    if message is None:  # a command word: not a conversation (never the case for the demo's texts)
        return False
    if spec.call_minutes is not None:
        Message.objects.filter(pk=message.pk).update(
            call_minutes=spec.call_minutes, call_outcome=spec.call_outcome
        )
    conversation = Conversation.objects.get(pk=message.conversation_id)
    if conversation.contact is not None and conversation.contact.area is None and area is not None:
        conversation.contact.area = area
        conversation.contact.save(update_fields=["area"])
    # as an operator's triage on arrival: with its category's answer target (help: 4 hours in the demo)
    ingest.classify_on_arrival(conversation, category=spec.category, topics=spec.topics)
    conversation.area = area
    conversation.assigned_to = _user(spec.assigned) if spec.assigned else None
    if spec.answer:
        answered = at + datetime.timedelta(hours=1)
        Message.objects.create(
            conversation=conversation,
            direction=Direction.OUT,
            body=spec.answer,
            provider_id=f"demo-answer-{spec.key}",
            status=MessageStatus.DELIVERED,
            sent_by=conversation.assigned_to or officer,
            at=answered,
            status_at=answered,
        )
        conversation.answered_at = answered
        conversation.last_message_at = answered
    conversation.status = spec.status
    if spec.status == ConversationStatus.CLOSED:
        conversation.closed_at = at + datetime.timedelta(hours=2)
    conversation.save()
    return True


@transaction.atomic
def load_demo_messaging(*, now: datetime.datetime | None = None) -> DemoMessagingResult:
    """Create the demo channels, templates, duty shift and conversations that are not there yet."""
    now = now or timezone.now()
    result = DemoMessagingResult()
    organisation = Organisation.objects.filter(name=ORGANISATION).first()
    if organisation is None:
        result.skipped.append("demo organisation missing")
        return result
    site = Site.objects.filter(organisation=organisation, name=SITE).first()
    channels = _channels(organisation, site, result)
    for name, texts in TEMPLATES.items():
        for language, text in texts.items():
            _template, created = ReplyTemplate.objects.get_or_create(
                organisation=organisation, name=name, language=language, defaults={"text": text}
            )
            result.templates_created += created
    _duty(organisation, now)
    _response_times(organisation)
    area = site.area if site is not None else None
    for spec in CONVERSATIONS:
        result.conversations_created += _conversation(spec, channels[spec.channel], area, now)
    return result


def _response_times(organisation: Organisation) -> None:
    """Requests for help answered within 4 hours, complaints within 3 days, the rest within a day."""
    administrator = _user(ADMINISTRATOR)
    if administrator is None or ResponseTimes.objects.filter(organisation=organisation).exists():
        return
    response_times.set_targets(
        organisation,
        answer_hours=24,
        urgent_hours=1,
        category_hours={"help": 4, "complaint": 72},
        by=administrator,
    )


def fake_gateway_channels() -> tuple[Gateway | None, Gateway | None]:
    """The demo's SMS and WhatsApp channels, for `ventanilla fake-gateway`."""
    channels = Gateway.objects.filter(
        organisation__name=ORGANISATION, name__in=[SMS_CHANNEL, WHATSAPP_CHANNEL]
    )
    by_name = {channel.name: channel for channel in channels}
    return by_name.get(SMS_CHANNEL), by_name.get(WHATSAPP_CHANNEL)
