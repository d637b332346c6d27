"""The OpenRosa documents (form list, manifest, response messages) and the headers on every response."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils.http import http_date

from ventanilla.questionnaires.models import FormVersion

XFORMS_LIST = "http://openrosa.org/xforms/xformsList"
MANIFEST = "http://openrosa.org/xforms/xformsManifest"
RESPONSE = "http://openrosa.org/http/response"
XML_TYPE = "text/xml; charset=utf-8"


def with_headers(response: HttpResponse) -> HttpResponse:
    """Every OpenRosa response says the protocol version and the server's time (phones check both)."""
    response["X-OpenRosa-Version"] = "1.0"
    response["Date"] = http_date()
    if not response.has_header("Content-Type") or response["Content-Type"].startswith("text/html"):
        response["Content-Type"] = XML_TYPE
    return response


def _document(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def xml_response(root: ET.Element, *, status: int = 200) -> HttpResponse:
    return with_headers(HttpResponse(_document(root), status=status, content_type=XML_TYPE))


def message(text: str, *, status: int, nature: str = "") -> HttpResponse:
    """An `<OpenRosaResponse>`: ODK Collect shows the message to the person holding the phone."""
    root = ET.Element("OpenRosaResponse", {"xmlns": RESPONSE})
    ET.SubElement(root, "message", {"nature": nature} if nature else {}).text = text
    return xml_response(root, status=status)


def form_hash(version: FormVersion) -> str:
    """`md5:` and the MD5 of the XForm exactly as downloaded: phones compare it to update forms."""
    return "md5:" + hashlib.md5(version.xform.encode(), usedforsecurity=False).hexdigest()


def form_list(entries: Iterable[tuple[FormVersion, str, str]]) -> ET.Element:
    """`entries`: each version with its download and manifest URLs."""
    root = ET.Element("xforms", {"xmlns": XFORMS_LIST})
    for version, download_url, manifest_url in entries:
        schema = version.schema
        item = ET.SubElement(root, "xform")
        ET.SubElement(item, "formID").text = schema.form_id
        ET.SubElement(item, "name").text = schema.title or version.questionnaire.title
        if schema.version:
            ET.SubElement(item, "version").text = schema.version
        ET.SubElement(item, "hash").text = form_hash(version)
        ET.SubElement(item, "downloadUrl").text = download_url
        ET.SubElement(item, "manifestUrl").text = manifest_url
    return root


def manifest() -> ET.Element:
    """Registration forms carry no media files: an empty manifest."""
    return ET.Element("manifest", {"xmlns": MANIFEST})
