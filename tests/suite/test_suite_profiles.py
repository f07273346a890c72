"""Client profiles: the examples load, and a broken one is refused with its file,
key and what was expected, in Python and on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from suite_support import EXAMPLES, run_suite

from conformance.drivers import load_adapter
from conformance.profile import ProfileError, load_profile
from conformance.requirements import CATALOGUE

CLIENT = """\
[client]
command = ["{python}", "client.py", "--port", "{port}"]
base_url = "http://127.0.0.1:{port}"
redirect_uri = "http://127.0.0.1:{port}/callback"
"""
STARTED = """\
[client]
base_url = "http://127.0.0.1:{port}"
redirect_uri = "http://127.0.0.1:{port}/callback"
"""

BROKEN = [
    pytest.param(
        '[success]\npath = "/me"\n', "[client]", "a table", id="no-client-table"
    ),
    pytest.param("client = 3\n", "[client]", "a table", id="client-not-a-table"),
    pytest.param(
        CLIENT + '[extras]\nx = "y"\n',
        "[extras]",
        "one of the tables",
        id="unknown-table",
    ),
    pytest.param(
        CLIENT + 'colour = "red"\n',
        "client.colour",
        "one of the keys",
        id="unknown-key",
    ),
    pytest.param(
        STARTED + "command = 5\n",
        "client.command",
        "a non-empty list of strings",
        id="command-not-a-list",
    ),
    pytest.param(
        STARTED + "command = []\n",
        "client.command",
        "a non-empty list of strings",
        id="command-empty",
    ),
    pytest.param(
        STARTED + 'command = ["{python}", "{nope}"]\n',
        "client.command",
        "not {nope}",
        id="command-unknown-placeholder",
    ),
    pytest.param(
        CLIENT.replace("{port}/callback", "{nope}/callback"),
        "client.redirect_uri",
        "placeholders among {api_url}",
        id="unknown-placeholder",
    ),
    pytest.param(
        CLIENT.replace('1:{port}"', '1:{port"'),
        "client.base_url",
        "well-formed {placeholders}",
        id="unclosed-placeholder",
    ),
    pytest.param(
        '[client]\nname = "nothing to run"\n',
        "client",
        "a command to start the client",
        id="no-command-url-or-adapter",
    ),
    pytest.param(
        '[client]\ncommand = ["{python}", "app.py"]\n',
        "client.base_url",
        "the URL the started client listens on",
        id="command-without-base-url",
    ),
    pytest.param(
        '[client]\nbase_url = "http://127.0.0.1:8000"\n',
        "client.redirect_uri",
        "the client's redirect URI",
        id="no-redirect-uri",
    ),
    pytest.param(
        CLIENT + 'name = ""\n', "client.name", "a non-empty string", id="empty-name"
    ),
    pytest.param(
        CLIENT + "env = 1\n", "client.env", "a table of strings", id="env-not-a-table"
    ),
    pytest.param(
        CLIENT + "[client.env]\nCH_X = true\n",
        "client.env.CH_X",
        "a string",
        id="env-value-not-a-string",
    ),
    pytest.param(
        CLIENT + "start_timeout = 0\n",
        "client.start_timeout",
        "a positive number of seconds",
        id="start-timeout-zero",
    ),
    pytest.param(
        CLIENT + 'http_timeout = "1s"\n',
        "client.http_timeout",
        "a positive number of seconds",
        id="http-timeout-a-string",
    ),
    pytest.param(
        CLIENT + "port = 70000\n",
        "client.port",
        "a port number from 1 to 65535",
        id="port-too-high",
    ),
    pytest.param(
        CLIENT + "port = true\n",
        "client.port",
        "a port number from 1 to 65535",
        id="port-a-boolean",
    ),
    pytest.param(
        CLIENT + 'ready_path = "healthz"\n',
        "client.ready_path",
        "a path starting with '/', got 'healthz'",
        id="ready-path-relative",
    ),
    pytest.param(
        CLIENT + '[success]\npath = "me"\n',
        "success.path",
        "a path starting with '/', got 'me'",
        id="success-path-relative",
    ),
    pytest.param(
        CLIENT + '[success]\ncolour = "red"\n',
        "success.colour",
        "one of the keys path, text",
        id="success-unknown-key",
    ),
    pytest.param(
        CLIENT + '[api]\npath = "file"\n',
        "api.path",
        "a path starting with '/'",
        id="api-path-relative",
    ),
    pytest.param(
        CLIENT + '[expect]\nbogus-id = "why"\n',
        "expect.bogus-id",
        "a requirement id, one of authorise-request",
        id="expect-unknown-requirement",
    ),
    pytest.param(
        CLIENT + '[expect]\nstate-checked = ""\n',
        "expect.state-checked",
        "a note saying why it fails",
        id="expect-without-a-note",
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("*/profile.toml")),
    ids=lambda path: path.parent.name,
)
def test_example_profile_loads(path: Path) -> None:
    profile = load_profile(path)

    assert profile.path == path
    assert profile.name
    assert profile.command is not None or profile.adapter is not None
    assert set(profile.expected_failures) <= set(CATALOGUE)


def test_example_profiles_exist() -> None:
    expected = {"reference", "adapter", "authlib_client", "requests_oauthlib_client"}

    names = {path.parent.name for path in EXAMPLES.glob("*/profile.toml")}

    assert expected <= names


def test_minimal_profile_gets_the_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, CLIENT)

    profile = load_profile(path)

    assert profile.name == "profile"
    assert profile.cwd == tmp_path.resolve()
    assert profile.ready_path == "/"
    assert profile.login_path == "/login"
    assert profile.success_path == "/"
    assert profile.port is None
    assert profile.expected_failures == {}


@pytest.mark.parametrize(("text", "key", "expected"), BROKEN)
def test_broken_profile_is_refused_naming_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ProfileError) as caught:
        load_profile(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: expected ")
    assert expected in message


def test_profile_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "[client\nname = 'unclosed'\n")

    with pytest.raises(ProfileError, match="not valid TOML") as caught:
        load_profile(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_missing_profile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ProfileError, match="cannot be read") as caught:
        load_profile(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_unknown_placeholder_when_filling_names_it(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, CLIENT))

    with pytest.raises(ProfileError) as caught:
        profile.fill("http://127.0.0.1:{nope}", {"port": "1"})

    assert str(caught.value) == f"{profile.path}: unknown placeholder {{nope}}"


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [
        pytest.param("no_colon_here", "expected 'module:Class'", id="no-class"),
        pytest.param("absent_adapter_module:Client", "cannot load", id="no-module"),
        pytest.param(
            "json:NoSuchClass", "cannot load 'json:NoSuchClass'", id="no-attr"
        ),
    ],
)
def test_adapter_that_cannot_be_loaded_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str, expected: str
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    profile = load_profile(_write(tmp_path, f'[client]\nadapter = "{adapter}"\n'))

    with pytest.raises(ProfileError) as caught:
        load_adapter(profile)

    assert str(caught.value).startswith(f"{profile.path}: client.adapter: ")
    assert expected in str(caught.value)


def test_broken_profile_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    path = _write(tmp_path, STARTED + "command = 5\n")

    run = run_suite(tmp_path / "run", "--client", path)

    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"{path}: client.command: expected a non-empty list of strings" in run.stderr
    assert "Traceback" not in run.output


def test_suite_without_a_client_is_a_usage_error(tmp_path: Path) -> None:
    run = run_suite(tmp_path / "run")

    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--client PROFILE is required" in run.stderr
    assert "Traceback" not in run.output
