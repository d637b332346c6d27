"""Filling a form in the browser, page by page — shared by the form try-out and by registration.

The caller decides what completing the form means (store nothing, register a person, record a survey
answer); this module only walks the pages, merges what was typed and re-asks the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ventanilla.questionnaires import engine, renderer
from ventanilla.questionnaires.models import FormVersion

Complete = Callable[[dict[str, Any], str], HttpResponse | dict[str, str]]


def fill(
    request: HttpRequest,
    version: FormVersion,
    *,
    on_complete: Complete,
    context: dict[str, Any] | None = None,
    initial: dict[str, Any] | None = None,
    template: str = "questionnaires/fill.html",
) -> HttpResponse:
    """Show the page asked for, or complete the form.

    `on_complete(answers, language)` gets answers the form accepted in full and returns a response,
    or a mapping of question key → message when it refuses them (a duplicate, a missing consent):
    those are shown on the page of that question like the form's own errors.
    """
    schema = version.schema
    all_pages = renderer.pages(schema)
    language = renderer.form_language(schema, request.POST.get("_language") or request.GET.get("language"))
    if request.method != "POST":
        answers = dict(initial) if initial is not None else engine.initial_answers(schema)
        return _render(request, version, answers, language, 0, False, context, template)

    answers = renderer.parse_answers(request.POST.get("_answers", ""))
    try:
        index = min(max(int(request.POST.get("_page", "0")), 0), len(all_pages) - 1)
    except ValueError:
        index = 0
    action = request.POST.get("_action", "next")
    if action != "language":
        answers = renderer.apply_post(schema, all_pages[index], answers, request.POST)

    if action.startswith("add:"):
        answers = renderer.add_repeat(schema, answers, action[4:])
        return _render(request, version, answers, language, index, False, context, template)
    if action.startswith("remove:"):
        answers = renderer.remove_repeat(answers, action[7:])
        return _render(request, version, answers, language, index, False, context, template)
    if action in {"refresh", "language"}:
        return _render(request, version, answers, language, index, False, context, template)

    state = engine.evaluate(schema, answers, language=language)
    if action == "back":
        return _render(
            request, version, answers, language, _step(state, all_pages, index, -1), False, context, template
        )
    if renderer.page_errors(state, all_pages[index]):
        return _render(request, version, answers, language, index, True, context, template, state=state)
    following = _step(state, all_pages, index, +1)
    # "Finish" on what looked like the last page goes on when an answer there opened more pages.
    if following != index:
        return _render(request, version, answers, language, following, False, context, template)

    # The last page (or an explicit "finish"): everything must hold.
    first_bad = renderer.first_page_with_error(state, all_pages)
    if first_bad is not None:
        return _render(request, version, answers, language, first_bad, True, context, template, state=state)
    outcome = on_complete(state.answers(), language)
    if isinstance(outcome, HttpResponse):
        return outcome
    for field_state in state.fields:
        if field_state.key in outcome:
            field_state.error = outcome[field_state.key]
    first_bad = renderer.first_page_with_error(state, all_pages)
    extra = {**(context or {}), "form_errors": [m for k, m in outcome.items() if state.field(k) is None]}
    return _render(
        request, version, answers, language, first_bad or index, True, extra, template, state=state
    )


def _step(state: engine.FormState, all_pages: list[Any], index: int, direction: int) -> int:
    """The next (or previous) page that has something to show."""
    position = index + direction
    while 0 <= position < len(all_pages):
        if renderer.page_is_relevant(state, all_pages[position]):
            return position
        position += direction
    return index


def _render(
    request: HttpRequest,
    version: FormVersion,
    answers: dict[str, Any],
    language: str,
    index: int,
    show_errors: bool,
    context: dict[str, Any] | None,
    template: str,
    *,
    state: engine.FormState | None = None,
) -> HttpResponse:
    schema = version.schema
    all_pages = renderer.pages(schema)
    if state is None:
        state = engine.evaluate(schema, answers, language=language, check=show_errors)
    page = renderer.build_page(state, all_pages, index, show_errors=show_errors)
    is_last = _step(state, all_pages, index, +1) == index
    values = {
        "version": version,
        "schema": schema,
        "page": page,
        "answers_json": renderer.dump_answers(answers),
        "form_language": language,
        "form_direction": renderer.direction(language),
        "form_languages": renderer.language_choices(schema),
        "is_first": _step(state, all_pages, index, -1) == index,
        "is_last": is_last,
        **(context or {}),
    }
    htmx = getattr(request, "htmx", False)
    name = "questionnaires/_page.html" if htmx and request.POST.get("_action") == "refresh" else template
    refused = show_errors and (page.errors or values.get("form_errors"))
    return render(request, name, values, status=422 if refused else 200)
