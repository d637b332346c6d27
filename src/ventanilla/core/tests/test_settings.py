"""Start-up from the environment, in real processes: missing secrets stop it, production values pass
`check --deploy`, and `ventanilla init-env` writes a usable, private file of secrets."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ventanilla import cli
from ventanilla.core.tests.helpers import (
    SETTINGS_VARIABLES,
    base_environment,
    production_values,
    run_python,
    run_ventanilla,
)

REQUIRED_IN_PRODUCTION = ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "ALLOWED_HOSTS"]


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_the_child_environment_is_controlled():
    # The helper strips every variable settings.py reads, or a test could pass by inheriting DEBUG=true.
    assert {"DEBUG", "HTTPS", "SECRET_KEY", "DATABASE_URL", "VENTANILLA_DATA_DIR"} <= SETTINGS_VARIABLES


def test_check_deploy_passes_with_production_values(tmp_path):
    # given the values an operator sets on a server
    env = production_values(tmp_path)
    # when
    result = run_ventanilla(["check", "--deploy", "--fail-level", "WARNING"], env=env, cwd=tmp_path)
    # then
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


def test_check_deploy_passes_when_the_operator_opts_into_hsts_preload(tmp_path):
    # given an operator who asks for preloading (nothing to silence then)
    env = {**production_values(tmp_path), "SECURE_HSTS_PRELOAD": "true"}
    # when
    result = run_ventanilla(["check", "--deploy", "--fail-level", "WARNING"], env=env, cwd=tmp_path)
    # then
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.parametrize("name", REQUIRED_IN_PRODUCTION)
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_production_start_up_fails_naming_the_missing_secret(tmp_path, name, how):
    # given production values with one secret missing
    env = production_values(tmp_path)
    if how == "absent":
        del env[name]
    else:
        env[name] = ""
    # when
    result = run_ventanilla(["check"], env=env, cwd=tmp_path)
    # then
    assert result.returncode == 1
    assert last_line(result.stderr) == (
        f"ventanilla: configuration error: The environment variable {name} is required but not set."
    )
    assert "Traceback" not in result.stderr  # the operator sees the message, not a stack trace


def test_start_up_refuses_an_invalid_encryption_key(tmp_path):
    # given a key that is not a Fernet key (a typo, a truncated copy)
    env = {**production_values(tmp_path), "FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}
    # when
    result = run_ventanilla(["check", "--deploy"], env=env, cwd=tmp_path)
    # then
    assert result.returncode == 1
    assert "FIELD_ENCRYPTION_KEYS" in last_line(result.stderr)
    assert "not-a-fernet-key" not in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "nosuchdb://db.example.org/ventanilla",
        "not a url",
        "postgres://ventanilla:s3cr3t-pw@db.example.org:notaport/ventanilla",
    ],
)
def test_an_invalid_database_url_names_database_url_and_not_its_password(tmp_path, url):
    # given
    env = {**production_values(tmp_path), "DATABASE_URL": url}
    # when
    result = run_ventanilla(["check"], env=env, cwd=tmp_path)
    # then
    assert result.returncode == 1
    assert last_line(result.stderr).startswith(
        "ventanilla: configuration error: The environment variable DATABASE_URL cannot be understood: "
    )
    assert "s3cr3t-pw" not in result.stderr + result.stdout


def test_an_unreadable_boolean_names_its_variable(tmp_path):
    env = {**production_values(tmp_path), "HTTPS": "sometimes"}
    result = run_ventanilla(["check"], env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "ventanilla: configuration error: The environment variable HTTPS must be true or false, "
        "not 'sometimes'."
    )


def test_debug_needs_no_secrets_for_the_embedded_set_up(tmp_path):
    # given only DEBUG (a laptop in a border office, hacking on the code)
    env = {"DEBUG": "true", "VENTANILLA_DATA_DIR": str(tmp_path)}
    # when
    result = run_ventanilla(["check"], env=env, cwd=tmp_path)
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_commands_may_be_typed_with_hyphens(tmp_path):
    # given a migrated embedded database
    env = {"DEBUG": "true", "VENTANILLA_DATA_DIR": str(tmp_path)}
    migrated = run_ventanilla(["migrate", "--no-input", "-v", "0"], env=env, cwd=tmp_path)
    # when `audit-verify` is typed as documented
    result = run_ventanilla(["audit-verify"], env=env, cwd=tmp_path)
    # then Django's `audit_verify` ran
    assert migrated.returncode == 0, migrated.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Audit log intact: 0 entries. Head: {'0' * 64}"


def test_generate_key_needs_no_settings_at_all(tmp_path):
    # when run before any environment exists (no DEBUG, no secrets)
    result = run_ventanilla(["generate-key"], env={}, cwd=tmp_path)
    # then a usable Fernet key is printed
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert len(key) == 44
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


def test_generate_key_gives_a_fresh_key_each_time(monkeypatch, capsys):
    keys = []
    for _ in range(2):
        monkeypatch.setattr(sys, "argv", ["ventanilla", "generate-key"])
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert exited.value.code == 0
        keys.append(capsys.readouterr().out.strip())
    assert keys[0] != keys[1]
    for key in keys:
        Fernet(key.encode())  # valid, or this raises


# --- init-env --------------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_init_env_writes_a_private_file_with_every_secret(tmp_path, capsys):
    # given
    path = tmp_path / "conf" / "demo.env"
    # when
    code = cli.init_env([str(path)])
    # then
    assert code == 0
    assert capsys.readouterr().out == f"Wrote new secrets to {path}.\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = read_env_file(path)
    assert sorted(values) == sorted(
        [
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "BLIND_INDEX_KEY",
            "DEBUG",
            "HTTPS",
            "ALLOWED_HOSTS",
            "VENTANILLA_DATA_DIR",
        ]
    )
    assert len(values["SECRET_KEY"]) >= 50
    Fernet(values["FIELD_ENCRYPTION_KEYS"].encode())  # a valid key, or this raises
    assert len(values["BLIND_INDEX_KEY"]) >= 32
    assert values["DEBUG"] == "false"
    assert values["ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert values["VENTANILLA_DATA_DIR"] == str((tmp_path / "conf").resolve())


def test_init_env_takes_a_data_dir(tmp_path):
    path = tmp_path / "demo.env"
    assert cli.init_env([str(path), "--data-dir", str(tmp_path / "data")]) == 0
    assert read_env_file(path)["VENTANILLA_DATA_DIR"] == str((tmp_path / "data").resolve())


def test_init_env_makes_fresh_secrets_each_time(tmp_path):
    cli.init_env([str(tmp_path / "one.env")])
    cli.init_env([str(tmp_path / "two.env")])
    one, two = read_env_file(tmp_path / "one.env"), read_env_file(tmp_path / "two.env")
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        assert one[name] != two[name]


def test_init_env_never_overwrites(tmp_path, capsys):
    # given a file written before (its keys may already encrypt data)
    path = tmp_path / "demo.env"
    cli.init_env([str(path)])
    before = path.read_bytes()
    capsys.readouterr()
    # when
    code = cli.init_env([str(path)])
    # then
    assert code == 0
    assert path.read_bytes() == before
    assert capsys.readouterr().out == f"{path} exists; keeping its secrets.\n"


def test_init_env_keeps_a_file_the_operator_wrote(tmp_path):
    path = tmp_path / "demo.env"
    path.write_text("SECRET_KEY=mine\n")
    assert cli.init_env([str(path)]) == 0
    assert path.read_text() == "SECRET_KEY=mine\n"


def test_init_env_without_a_path_prints_usage(capsys):
    assert cli.init_env([]) == 2
    assert capsys.readouterr().err == "usage: ventanilla init-env PATH [--data-dir DIR]\n"


def test_init_env_from_the_command_line_gives_a_file_the_app_starts_with(tmp_path):
    # given the installed `ventanilla` script
    script = Path(sys.executable).parent / "ventanilla"
    path = tmp_path / "demo.env"
    # when
    written = subprocess.run(
        [str(script), "init-env", str(path)],
        env=base_environment(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    started = run_ventanilla(["check"], env=read_env_file(path), cwd=tmp_path)
    # then
    assert written.returncode == 0, written.stderr
    assert written.stdout == f"Wrote new secrets to {path}.\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "System check identified no issues (0 silenced)."


def test_main_dispatches_init_env_without_settings(tmp_path, monkeypatch):
    # given
    path = tmp_path / "demo.env"
    monkeypatch.setattr(sys, "argv", ["ventanilla", "init-env", str(path)])
    # when
    with pytest.raises(SystemExit) as exited:
        cli.main()
    # then
    assert exited.value.code == 0
    assert path.exists()


def test_importing_the_package_does_not_choose_the_settings(tmp_path):
    # given a process that has not chosen its settings yet (pytest-django, coverage, a tool)
    code = "import os, ventanilla.core; print(os.environ.get('DJANGO_SETTINGS_MODULE'))"
    # when
    result = run_python(code, env={}, cwd=tmp_path)
    # then importing the package decided nothing
    assert result.returncode == 0, result.stderr
    assert result.stdout == "None\n"
