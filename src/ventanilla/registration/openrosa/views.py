"""The OpenRosa endpoints ODK Collect and KoboCollect call: formList, form download, manifest, submission.

Views are thin: authenticate the phone (Digest), find the form version, and hand the answers to
`registration.services.register`, the same path the web form takes (validation, consent, screening,
duplicates, all in one transaction). Every response, errors included, carries X-OpenRosa-Version.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ventanilla.accounts import services as accounts_services
from ventanilla.core.http import client_address
from ventanilla.questionnaires import engine
from ventanilla.questionnaires.models import FormVersion, Source
from ventanilla.questionnaires.schema import FormSchema
from ventanilla.questionnaires.services import InvalidSubmission
from ventanilla.registration import services
from ventanilla.registration.models import FlagSeverity
from ventanilla.registration.models_openrosa import DeviceCredential
from ventanilla.registration.openrosa import credentials, digest, responses

View = Callable[..., HttpResponse]


def openrosa_endpoint(*methods: str) -> Callable[[View], View]:
    """Allowed methods, no CSRF (phones have no session), OpenRosa headers on every response."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = responses.message(_("This address does not accept that method."), status=405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                response = responses.message(_("Not found."), status=404)
            return responses.with_headers(response)

        return csrf_exempt(wrapped)

    return decorate


def _authenticate(request: HttpRequest) -> DeviceCredential | HttpResponse:
    """The phone's credential, or the response that refuses it (401 with a challenge, 403, 429)."""
    result = digest.check(request)
    address = client_address(request)
    if result.username:
        try:
            accounts_services.check_login_allowed(username=result.username, address=address)
        except accounts_services.LoginThrottled:
            response = responses.message(
                _("Too many failed attempts with this username. Wait a few minutes and try again."),
                status=429,
            )
            response["Retry-After"] = str(settings.LOGIN_FAILURE_WINDOW_MINUTES * 60)
            return response
    if result.failed:
        accounts_services.record_login_failure(username=result.username, address=address)
    if result.credential is None:
        response = responses.message(
            _("Enter this phone's username and password, as shown on Ventanilla's Phones page."), status=401
        )
        response["WWW-Authenticate"] = digest.challenge(stale=result.stale)
        return response
    if not credentials.may_use(result.credential):
        return responses.message(
            _("This account may no longer register people at this phone's site. Ask your administrator."),
            status=403,
        )
    credentials.mark_used(result.credential)
    return result.credential


def _language(credential: DeviceCredential) -> str:
    """Messages in the language of the person holding the phone (their Ventanilla preference)."""
    codes = {code for code, _name in settings.LANGUAGES}
    preferred = credential.user.preferred_language
    return preferred if preferred in codes else translation.get_language() or settings.LANGUAGE_CODE


def _form_url(request: HttpRequest, name: str, version: FormVersion) -> str:
    return request.build_absolute_uri(reverse(name, args=[version.questionnaire.form_id, version.version]))


@openrosa_endpoint("GET", "HEAD")
def form_list(request: HttpRequest) -> HttpResponse:
    """The registration forms this phone may fill (OpenRosa Form List API)."""
    credential = _authenticate(request)
    if isinstance(credential, HttpResponse):
        return credential
    versions = credentials.form_versions(credential)
    wanted = request.GET.get("formID")
    if wanted:
        versions = [v for v in versions if v.questionnaire.form_id == wanted]
    entries = [
        (v, _form_url(request, "openrosa:form_download", v), _form_url(request, "openrosa:manifest", v))
        for v in versions
    ]
    return responses.xml_response(responses.form_list(entries))


def _version_or_404(credential: DeviceCredential, form_id: str, version: str) -> FormVersion:
    found = credentials.find_version(credential, form_id, version)
    if found is None:
        raise Http404
    return found


@openrosa_endpoint("GET", "HEAD")
def form_download(request: HttpRequest, form_id: str, version: str) -> HttpResponse:
    """The XForm, byte for byte what the form list's hash was computed over."""
    credential = _authenticate(request)
    if isinstance(credential, HttpResponse):
        return credential
    found = _version_or_404(credential, form_id, version)
    return HttpResponse(found.xform.encode(), content_type=responses.XML_TYPE)


@openrosa_endpoint("GET", "HEAD")
def manifest(request: HttpRequest, form_id: str, version: str) -> HttpResponse:
    credential = _authenticate(request)
    if isinstance(credential, HttpResponse):
        return credential
    _version_or_404(credential, form_id, version)
    return responses.xml_response(responses.manifest())


@openrosa_endpoint("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other address under /openrosa/: a 404 that still speaks OpenRosa."""
    raise Http404


@openrosa_endpoint("HEAD", "POST")
def submission(request: HttpRequest) -> HttpResponse:
    """HEAD: may I send, and how much? POST: one filled form (OpenRosa Form Submission API)."""
    credential = _authenticate(request)
    if isinstance(credential, HttpResponse):
        return credential
    limit = settings.OPENROSA_MAX_SUBMISSION_BYTES
    if request.method == "HEAD":
        response = HttpResponse(status=204)
    else:
        with translation.override(_language(credential)):
            response = _receive(request, credential, limit)
    response["X-OpenRosa-Accept-Content-Length"] = str(limit)
    return response


def _too_large(limit: int) -> HttpResponse:
    return responses.message(
        _("This submission is larger than the server accepts (%(limit)s bytes).") % {"limit": limit},
        status=413,
    )


def _receive(request: HttpRequest, credential: DeviceCredential, limit: int) -> HttpResponse:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _too_large(limit)  # refused before the body is read
    try:
        files = request.FILES
    except RequestDataTooBig:
        return _too_large(limit)
    except (MultiPartParserError, SuspiciousOperation):
        return responses.message(_("The submission is not a valid multipart request."), status=400)
    upload = files.get("xml_submission_file")
    if upload is None:
        return responses.message(_("The submission has no xml_submission_file."), status=400)
    if sum(f.size or 0 for _name, parts in files.lists() for f in parts) > limit:
        return _too_large(limit)
    try:
        root = fromstring(upload.read())
    except (ET.ParseError, DefusedXmlException, ValueError):
        return responses.message(_("The submitted form is not well-formed XML."), status=400)
    form_id, version_name = root.get("id", ""), root.get("version")
    if not form_id:
        return responses.message(_("The submitted form does not say which form it is (no id)."), status=400)
    version = credentials.find_version(credential, form_id, version_name)
    if version is None:
        return responses.message(
            _(
                "The form %(form)s version %(version)s is not on this server. "
                "Get the current forms and fill it again."
            )
            % {"form": form_id[:100], "version": (version_name or "-")[:50]},
            status=404,
        )
    schema = version.schema
    answers = engine.instance_from_xml(schema, root)
    language = translation.get_language() or settings.LANGUAGE_CODE
    try:
        outcome = services.register(
            version,
            answers,
            organisation=credential.organisation,
            site=credential.site,
            by=credential.user,
            language=language,
            source=Source.OPENROSA,
            instance_id=str(answers.get("instanceID") or "") or None,
        )
    except services.AlreadyReceived:
        return responses.message(_("This form was already received."), status=202, nature="submit_success")
    except InvalidSubmission as error:
        return responses.message(_invalid(schema, error.errors, language), status=400)
    except services.RegistrationPermissionError:
        return responses.message(_("You cannot register people for this organisation or site."), status=403)
    return responses.message(_received(outcome), status=201, nature="submit_success")


def _invalid(schema: FormSchema, errors: dict[str, str], language: str) -> str:
    """One line per question, with its label in the form's language, so it can be found on the phone."""
    lines = [_("The form was not accepted. Correct these answers and send it again:")]
    for key, text in errors.items():
        node = schema.node_named(key)
        label = schema.text(node.labels, language) if node is not None else ""
        lines.append(f"- {label or key}: {text}")
    return "\n".join(lines)


def _received(outcome: services.Outcome) -> str:
    if outcome.stored == "nothing":
        return _("Received. Nothing was stored: the person did not consent.")
    if outcome.person is None:
        return _("Received. An anonymous record was kept (consent to statistics only).")
    text = _("Registered as %(reference)s.") % {"reference": outcome.person.reference}
    if any(flag.severity == FlagSeverity.CRITICAL for flag in outcome.flags):
        text += " " + _("Urgent: this person needs attention today.")
    return text
