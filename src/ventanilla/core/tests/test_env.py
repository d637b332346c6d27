"""The environment readers: defaults, parsing, and errors that name the variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from ventanilla.core.env import EnvironmentError_, env_bool, env_int, env_list, env_str

# --- env_str ---------------------------------------------------------------------------------------


def test_env_str_returns_the_value():
    # given / when
    value = env_str("HOST", "127.0.0.1", environ={"HOST": "10.0.0.5"})
    # then
    assert value == "10.0.0.5"


@pytest.mark.parametrize("environ", [{}, {"HOST": ""}])
def test_env_str_falls_back_to_the_default_when_missing_or_empty(environ):
    assert env_str("HOST", "127.0.0.1", environ=environ) == "127.0.0.1"


@pytest.mark.parametrize("environ", [{}, {"SECRET_KEY": ""}])
def test_env_str_without_default_names_the_missing_variable(environ):
    # when
    with pytest.raises(EnvironmentError_) as raised:
        env_str("SECRET_KEY", environ=environ)
    # then
    assert str(raised.value) == "The environment variable SECRET_KEY is required but not set."


def test_environment_error_is_an_improperly_configured():
    # Django reports ImproperlyConfigured at start-up; the error must be one.
    assert issubclass(EnvironmentError_, ImproperlyConfigured)


def test_env_str_reads_the_process_environment_by_default(monkeypatch):
    # given
    monkeypatch.setenv("VENTANILLA_TEST_VALUE", "from-process")
    # when / then
    assert env_str("VENTANILLA_TEST_VALUE", "default") == "from-process"


# --- env_bool --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "On"])
def test_env_bool_true_spellings(raw):
    assert env_bool("HTTPS", False, environ={"HTTPS": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", " no", "OFF"])
def test_env_bool_false_spellings(raw):
    assert env_bool("HTTPS", True, environ={"HTTPS": raw}) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_missing_gives_the_default(default):
    assert env_bool("HTTPS", default, environ={}) is default


@pytest.mark.parametrize("raw", ["", "   "])
def test_env_bool_blank_gives_the_default_like_every_other_reader(raw):
    # An empty `HTTPS=` line in an env file must not switch HTTPS off on a production server.
    assert env_bool("HTTPS", True, environ={"HTTPS": raw}) is True
    assert env_bool("DEBUG", False, environ={"DEBUG": raw}) is False


def test_env_bool_refuses_other_words_and_names_the_variable():
    with pytest.raises(EnvironmentError_) as raised:
        env_bool("DEBUG", False, environ={"DEBUG": "maybe"})
    assert str(raised.value) == "The environment variable DEBUG must be true or false, not 'maybe'."


# --- env_int ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"PORT": ""}, {"PORT": "  "}])
def test_env_int_default_when_missing_or_blank(environ):
    assert env_int("PORT", 8000, environ=environ) == 8000


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (" 7 ", 7), ("-3", -3), ("0", 0)])
def test_env_int_parses_whole_numbers(raw, expected):
    assert env_int("PORT", 8000, environ={"PORT": raw}) == expected


@pytest.mark.parametrize("raw", ["eighty", "8.5", "1e3"])
def test_env_int_refuses_non_integers_and_names_the_variable(raw):
    with pytest.raises(EnvironmentError_) as raised:
        env_int("PORT", 8000, environ={"PORT": raw})
    assert str(raised.value) == f"The environment variable PORT must be a whole number, not {raw!r}."


def test_env_int_enforces_the_minimum_and_names_the_variable():
    with pytest.raises(EnvironmentError_) as raised:
        env_int("WEB_CONCURRENCY", 2, minimum=1, environ={"WEB_CONCURRENCY": "0"})
    assert str(raised.value) == "The environment variable WEB_CONCURRENCY must be at least 1, not 0."


def test_env_int_accepts_the_minimum_itself():
    assert env_int("WEB_CONCURRENCY", 2, minimum=1, environ={"WEB_CONCURRENCY": "1"}) == 1


# --- env_list --------------------------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"ALLOWED_HOSTS": ""}, {"ALLOWED_HOSTS": "  "}])
def test_env_list_default_when_missing_or_blank(environ):
    assert env_list("ALLOWED_HOSTS", ["localhost"], environ=environ) == ["localhost"]


def test_env_list_splits_on_commas_and_drops_empty_items():
    raw = " a.example.org, b.example.org,,c.example.org , "
    assert env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": raw}) == [
        "a.example.org",
        "b.example.org",
        "c.example.org",
    ]


def test_env_list_returns_a_copy_of_the_default():
    # given
    default = ["localhost"]
    # when
    value = env_list("ALLOWED_HOSTS", default, environ={})
    value.append("evil.example.org")
    # then the shared default is untouched
    assert default == ["localhost"]
