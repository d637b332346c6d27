"""Staff pages for hub content: articles, FAQs and alerts in every language, through draft → review →
published, with history, the review queue and the outdated and stale lists.

Only content managers use them, for items kept by their own organisations: anyone else gets 403, and
another organisation's item is a 404. Refused workflow steps are shown as form errors; nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Prefetch, QuerySet
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Organisation, User
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.hub import services
from ventanilla.hub.models import ContentItem, ContentRevision, ContentTranslation
from ventanilla.hub.staff_forms import (
    ItemFilterForm,
    ItemForm,
    ItemSettingsForm,
    SendBackForm,
    TranslationForm,
)

PAGE_SIZE = 50
LANGUAGE_NAMES = dict(settings.LANGUAGES)
# What ContentRevision.action records, in words.
REVISION_ACTIONS = {
    "created": gettext_lazy("Written"),
    "edited": gettext_lazy("Edited"),
    "submitted": gettext_lazy("Sent for review"),
    "published": gettext_lazy("Published"),
    "sent_back": gettext_lazy("Sent back"),
    "archived": gettext_lazy("Archived"),
    "unpublished": gettext_lazy("Taken offline (the item became sensitive)"),
}


def _labelled(revisions: Iterable[ContentRevision]) -> list[ContentRevision]:
    rows = list(revisions)
    for revision in rows:
        revision.action_label = str(REVISION_ACTIONS.get(revision.action, revision.action))  # type: ignore[attr-defined]
    return rows


def managed_organisations(request: HttpRequest) -> set[int]:
    organisations = scope_for(request.user).organisations(Permission.MANAGE_CONTENT)
    if not organisations:
        raise PermissionDenied
    return organisations


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _items(request: HttpRequest) -> QuerySet[ContentItem]:
    return ContentItem.objects.filter(owner_id__in=managed_organisations(request))


def _item(request: HttpRequest, pk: int) -> ContentItem:
    item = _items(request).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def _language(language: str) -> str:
    if language not in LANGUAGE_NAMES:
        raise Http404
    return language


def _translation(request: HttpRequest, pk: int, language: str) -> ContentTranslation:
    item = _item(request, pk)
    translation = item.translations.filter(language=_language(language)).select_related("item").first()
    if translation is None:
        raise Http404
    return translation


def _next_or(request: HttpRequest, default: str) -> str:
    """Back to the page the button was on (a list), when it is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _attach(error: ValidationError, form: BaseForm) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_messages in error.message_dict.items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


def _languages(item: ContentItem) -> list[dict[str, Any]]:
    """One entry per offered language: its translation (or None), for the status badges."""
    translations = {t.language: t for t in item.translations.all()}
    return [
        {
            "code": code,
            "name": name,
            "translation": translations.get(code),
            "is_source": code == item.source_language,
        }
        for code, name in settings.LANGUAGES
    ]


# --- Lists ----------------------------------------------------------------------------------------


@login_required
def item_list(request: HttpRequest) -> HttpResponse:
    form = ItemFilterForm(request.GET)
    items = _items(request)
    if form.is_valid():
        if form.cleaned_data["kind"]:
            items = items.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["sensitivity"]:
            items = items.filter(sensitivity=form.cleaned_data["sensitivity"])
        if form.cleaned_data["q"]:
            items = items.filter(key__icontains=form.cleaned_data["q"])
    items = items.select_related("owner").prefetch_related("translations").order_by("kind", "key")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [{"item": item, "languages": _languages(item)} for item in page]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "in_review": services.review_queue(_user(request)).count(),
        "outdated": services.outdated_translations(_user(request)).count(),
        "stale": services.stale_items(_user(request)).count(),
    }
    return render(request, "hub/staff/item_list.html", context)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    managed_organisations(request)
    translations = services.review_queue(_user(request)).order_by("updated_at", "pk")
    return render(request, "hub/staff/review_queue.html", {"translations": translations})


@login_required
def outdated_list(request: HttpRequest) -> HttpResponse:
    managed_organisations(request)
    translations = services.outdated_translations(_user(request)).order_by("item__key", "language")
    return render(request, "hub/staff/outdated_list.html", {"translations": translations})


@login_required
def stale_list(request: HttpRequest) -> HttpResponse:
    managed_organisations(request)
    items = (
        services.stale_items(_user(request))
        .select_related("verified_by")
        # Never verified first, on every database (SQLite sorts NULL first, PostgreSQL last).
        .order_by(F("last_verified_at").asc(nulls_first=True), "key")
    )
    return render(
        request, "hub/staff/stale_list.html", {"items": items, "stale_days": settings.DIRECTORY_STALE_DAYS}
    )


# --- Items ----------------------------------------------------------------------------------------


@login_required
def item_create(request: HttpRequest) -> HttpResponse:
    owners = Organisation.objects.filter(pk__in=managed_organisations(request), is_active=True).order_by(
        "name"
    )
    form = ItemForm(request.POST or None, owners=owners)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                item = services.create_item(by=_user(request), **form.cleaned_data)
            except services.ContentPermissionError:
                raise PermissionDenied from None
            except ValidationError as error:
                _attach(error, form)
            else:
                messages.success(request, _("The item was created. Now write it in its first language."))
                return redirect("content:translation_edit", pk=item.pk, language=item.source_language)
        status = 400
    return render(request, "hub/staff/item_form.html", {"form": form}, status=status)


@login_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    item = (
        ContentItem.objects.select_related("owner", "verified_by")
        .prefetch_related(
            Prefetch("translations", queryset=ContentTranslation.objects.select_related("updated_by"))
        )
        .get(pk=item.pk)
    )
    context = {"item": item, "languages": _languages(item), "stale_days": settings.DIRECTORY_STALE_DAYS}
    return render(request, "hub/staff/item_detail.html", context)


@login_required
def item_settings(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = ItemSettingsForm(request.POST or None, initial=ItemSettingsForm.initial_for(item))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                done = services.update_item(item, by=_user(request), **form.cleaned_data)
            except services.ContentPermissionError:
                raise PermissionDenied from None
            except ValidationError as error:
                _attach(error, form)
            else:
                if done.unpublished:
                    messages.warning(
                        request,
                        ngettext(
                            "Saved. The item is sensitive: %(count)d published language went offline.",
                            "Saved. The item is sensitive: %(count)d published languages went offline.",
                            done.unpublished,
                        )
                        % {"count": done.unpublished},
                    )
                elif done.changed:
                    messages.success(request, _("The settings were saved."))
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect(_next_or(request, reverse("content:item_detail", args=[item.pk])))
        status = 400
    return render(request, "hub/staff/item_settings.html", {"item": item, "form": form}, status=status)


@login_required
@require_POST
def item_verify(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    services.verify_item(item, by=_user(request))
    messages.success(request, _("“%(key)s” was marked as verified today.") % {"key": item.key})
    return redirect(_next_or(request, reverse("content:item_detail", args=[item.pk])))


# --- Translations ---------------------------------------------------------------------------------


def _source_words(item: ContentItem, language: str) -> ContentTranslation | None:
    if language == item.source_language:
        return None
    return item.translations.filter(language=item.source_language).first()


@login_required
def translation_edit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    item = _item(request, pk)
    language = _language(language)
    translation = item.translations.filter(language=language).first()
    form = TranslationForm(request.POST or None, initial=TranslationForm.initial_for(translation))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                # Saving and sending for review succeed together or not at all.
                with transaction.atomic():
                    translation = services.save_translation(
                        item, language=language, by=_user(request), **form.words()
                    )
                    if "submit" in request.POST:
                        services.submit_for_review(translation, by=_user(request))
            except services.ContentPermissionError:
                raise PermissionDenied from None
            except services.WorkflowError as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                _attach(error, form)
            else:
                if "submit" in request.POST:
                    messages.success(request, _("Saved and sent for review."))
                else:
                    messages.success(request, _("Saved as a draft."))
                return redirect("content:item_detail", pk=item.pk)
        status = 400
    context = {
        "item": item,
        "language": language,
        "language_name": LANGUAGE_NAMES[language],
        # Read again: a refused save was rolled back, whatever the variable holds.
        "translation": item.translations.filter(language=language).first(),
        "source": _source_words(item, language),
        "form": form,
    }
    return render(request, "hub/staff/translation_form.html", context, status=status)


def _step(request: HttpRequest, pk: int, language: str, step: str) -> HttpResponse:
    """Run one workflow step; a refused step re-shows the review page with the reason, nothing changed."""
    translation = _translation(request, pk, language)
    send_back_form = SendBackForm(request.POST if step == "send_back" else None)
    if step == "send_back" and not send_back_form.is_valid():
        return _review_page(request, translation, send_back_form, status=400)
    by = _user(request)
    errors: list[str] = []
    try:
        if step == "submit":
            services.submit_for_review(translation, by=by)
            done = _("Sent for review.")
        elif step == "publish":
            services.publish(translation, by=by)
            done = _("Published.")
        elif step == "send_back":
            services.send_back(translation, by=by, note=send_back_form.cleaned_data["note"])
            done = _("Sent back to its author with your note.")
        else:
            services.archive(translation, by=by)
            done = _("Archived: it is no longer public in this language.")
    except services.ContentPermissionError:
        raise PermissionDenied from None
    except services.WorkflowError as error:
        errors.append(str(error))
    except ValidationError as error:
        if step == "send_back":
            _attach(error, send_back_form)
        else:
            errors.extend(error.messages)
    if errors or send_back_form.errors:
        translation.refresh_from_db()
        return _review_page(request, translation, send_back_form, errors, status=400)
    messages.success(request, done)
    if step in ("publish", "send_back"):
        return redirect(_next_or(request, reverse("content:review_queue")))
    return redirect(_next_or(request, reverse("content:item_detail", args=[translation.item_id])))


def _review_page(
    request: HttpRequest,
    translation: ContentTranslation,
    send_back_form: SendBackForm,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    item = translation.item
    context = {
        "item": item,
        "translation": translation,
        "language_name": LANGUAGE_NAMES[translation.language],
        "source": _source_words(item, translation.language),
        "send_back_form": send_back_form,
        "errors": errors or [],
        "history": _labelled(translation.history.select_related("by")[:10]),
    }
    return render(request, "hub/staff/translation_review.html", context, status=status)


@login_required
def translation_review(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    return _review_page(request, _translation(request, pk, language), SendBackForm())


@login_required
@require_POST
def translation_submit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    return _step(request, pk, language, "submit")


@login_required
@require_POST
def translation_publish(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    return _step(request, pk, language, "publish")


@login_required
@require_POST
def translation_send_back(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    return _step(request, pk, language, "send_back")


@login_required
@require_POST
def translation_archive(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    return _step(request, pk, language, "archive")


@login_required
def translation_history(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    translation = _translation(request, pk, language)
    revisions = (
        ContentRevision.objects.filter(translation=translation).select_related("by").order_by("-at", "-pk")
    )
    page = Paginator(revisions, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _labelled(page.object_list)
    context = {
        "item": translation.item,
        "translation": translation,
        "language_name": LANGUAGE_NAMES[translation.language],
        "page": page,
    }
    return render(request, "hub/staff/translation_history.html", context)
