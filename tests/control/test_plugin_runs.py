"""The pytest plugin as its users meet it, run through ``pytester``."""

from __future__ import annotations

import textwrap
from urllib.parse import urlsplit

import pytest

# The inner runs need only this plugin; hypothesis's would be imported afresh in
# each in-process run (pytester restores sys.modules), which costs seconds.
QUIET = ("-p", "no:hypothesispytest", "-p", "no:randomly")


def test_each_test_starts_from_a_reset_fake(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_one_changes_everything(ch_oauth):
            ch_oauth.control.register_client(
                client_id="left-over", client_secret="s",
                redirect_uris=["http://127.0.0.1:1/cb"],
            )
            ch_oauth.control.set_auth_code(number="00012345", auth_code="000001")
            ch_oauth.fail_next("token", "html", times=None)
            ch_oauth.control.arrange(times=None)
            ch_oauth.advance(3600)
            requests.get(f"{ch_oauth.url}/oauth2/verify?access_token=x")

        def test_two_sees_none_of_it(ch_oauth):
            registry = ch_oauth.provider.registry
            assert "left-over" not in registry.clients
            assert registry.companies["00012345"].auth_code == "222222"
            assert ch_oauth.control.faults.active() == []
            assert ch_oauth.journal() == []
            assert ch_oauth.provider.clock.offset == 0
            page = requests.get(ch_oauth.authorise_url(), allow_redirects=False)
            assert page.status_code == 200
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=2)


def test_tokens_from_one_test_are_unknown_in_the_next(pytester):
    pytester.makepyfile(
        """
        import pathlib, requests

        SAVED = pathlib.Path("token.txt")

        def test_one_gets_a_token(ch_oauth):
            tokens = ch_oauth.exchange(ch_oauth.authorise().code)
            SAVED.write_text(tokens["access_token"])

        def test_two_cannot_use_it(ch_oauth):
            verify = requests.get(
                f"{ch_oauth.url}/oauth2/verify",
                params={"access_token": SAVED.read_text()},
            )
            assert verify.status_code == 401
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=2)


def test_strict_marker_turns_the_lenient_switches_off(pytester):
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.ch_oauth(strict=True)
        def test_strict(ch_oauth):
            config = ch_oauth.provider.config
            assert (config.serve_aliases, config.require_state) == (False, True)
            alias = requests.post(f"{ch_oauth.url}/oauth/token")
            assert alias.status_code == 404
            callback = ch_oauth.authorise(state=None)
            assert callback.error == "invalid_request"

        def test_lenient_by_default(ch_oauth):
            assert ch_oauth.provider.config.serve_aliases
            assert ch_oauth.authorise(state=None).code is not None
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=2)


def test_marker_fields_set_provider_config(pytester):
    pytester.makepyfile(
        """
        import pytest

        SHORT = pytest.mark.ch_oauth(
            access_token_lifetime=60, expires_in_as_string=True
        )
        URLS = []

        @SHORT
        def test_short_tokens(ch_oauth):
            URLS.append(ch_oauth.url)
            tokens = ch_oauth.exchange(ch_oauth.authorise().code)
            assert tokens["expires_in"] == "60"

        def test_default_config_has_its_own_server(ch_oauth):
            URLS.append(ch_oauth.url)
            assert ch_oauth.exchange(ch_oauth.authorise().code)["expires_in"] == 3600

        @SHORT
        def test_same_config_shares_the_server(ch_oauth):
            assert ch_oauth.url == URLS[0] != URLS[1]
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=3)


DATA = """\
[[clients]]
client_id = "file-client"
client_secret = "file-secret"
name = "From A File"
redirect_uris = ["http://127.0.0.1:5000/callback"]

[[users]]
id = "file-user"
email = "file@example.com"
password = "file-password"
forename = "File"
surname = "User"

[[scopes]]
scope = "https://identity.company-information.service.gov.uk/user/profile.read"
description = "See your name and email address"
"""


def test_data_marker_loads_a_file_next_to_the_test_file(pytester):
    tests = pytester.mkdir("suite")
    (tests / "my-data.toml").write_text(DATA)
    (tests / "test_with_data.py").write_text(
        textwrap.dedent(
            """
            import pytest, requests

            @pytest.mark.ch_oauth(data="my-data.toml")
            def test_file_data(ch_oauth):
                assert ch_oauth.settings.client_id == "file-client"
                tokens = ch_oauth.exchange(ch_oauth.authorise().code)
                profile = requests.get(
                    f"{ch_oauth.url}/user/profile",
                    headers={"Authorization": f"Bearer {tokens['access_token']}"},
                ).json()
                assert profile["email"] == "file@example.com"

            def test_default_data_elsewhere(ch_oauth):
                assert ch_oauth.settings.client_id == "test-client-id"
            """
        )
    )

    # Run from the parent: the path is relative to the test file, not the cwd.
    result = pytester.runpytest(*QUIET, "suite")

    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "colour='blue'",
            "@pytest.mark.ch_oauth: unknown field 'colour'; expected data, strict",
        ),
        ("'strict'", "@pytest.mark.ch_oauth takes keyword arguments only"),
        ("data='missing.toml'", "missing.toml: cannot be read"),
    ],
    ids=["unknown-field", "positional-argument", "missing-data-file"],
)
def test_bad_marker_fails_the_test_with_a_message(pytester, marker, message):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.ch_oauth({marker})
        def test_marked(ch_oauth):
            pass
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{message}*"])


def test_overriding_ch_oauth_config_changes_the_session_fake(pytester):
    pytester.makeconftest(
        """
        import pytest
        from mock_provider import ProviderConfig

        @pytest.fixture(scope="session")
        def ch_oauth_config():
            # control=False is overridden: the fixture needs its control plane.
            return ProviderConfig(realm="live", code_lifetime=5, control=False)
        """
    )
    pytester.makepyfile(
        """
        def test_live_realm(ch_oauth):
            assert ch_oauth.settings.client_id == "live-client-id"
            code = ch_oauth.authorise().code
            ch_oauth.advance(5)
            assert ch_oauth.exchange(code)["error"] == "invalid_grant"

        def test_session_server_is_the_same(ch_oauth, ch_oauth_server):
            assert ch_oauth.server is ch_oauth_server
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=2)


def test_settings_fixture_and_env_name_the_fake(pytester):
    pytester.makepyfile(
        """
        def test_settings(ch_oauth, ch_oauth_settings):
            env = ch_oauth_settings.as_env()
            assert env["CH_IDENTITY_URL"] == ch_oauth.url
            assert env["CH_API_URL"] == ch_oauth.url
            assert env["CH_CLIENT_ID"] == "test-client-id"
            assert env["CH_REDIRECT_URI"] == "http://127.0.0.1:8000/callback"
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=1)


def test_handler_error_on_the_server_thread_fails_the_test_that_caused_it(pytester):
    pytester.makepyfile(
        """
        import requests
        import mock_provider.app

        def explode(provider, request):
            raise RuntimeError("profile handler exploded")

        def test_causes_it(ch_oauth, monkeypatch):
            monkeypatch.setitem(mock_provider.app.HANDLERS, "profile", explode)
            answer = requests.get(
                f"{ch_oauth.url}/user/profile",
                headers={"Authorization": "Bearer anything"},
            )
            assert answer.status_code == 500

        def test_after_it_is_clean(ch_oauth):
            answer = requests.get(f"{ch_oauth.url}/user/profile")
            assert answer.status_code == 401
        """
    )

    result = pytester.runpytest(*QUIET)

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_causes_it*",
            "*ServerThreadError: the fake raised 1 error(s) while serving this test*",
        ]
    )
    result.stdout.fnmatch_lines(["*RuntimeError: profile handler exploded*"])
    assert "ERROR at teardown of test_after_it_is_clean" not in result.stdout.str()


def test_each_xdist_worker_gets_its_own_fake(pytester):
    pytester.makepyfile(
        **{
            f"test_worker_{n}": f"""
            import os, pathlib

            def test_records_url(ch_oauth):
                worker = os.environ.get("PYTEST_XDIST_WORKER", "none")
                out = pathlib.Path({str(pytester.path)!r}) / "urls"
                out.mkdir(exist_ok=True)
                (out / "{n}.txt").write_text(worker + " " + ch_oauth.url)
                ch_oauth.control.register_client(
                    client_id="worker-{n}", client_secret="s",
                    redirect_uris=["http://127.0.0.1:1/cb"],
                )
                others = [c for c in ch_oauth.provider.registry.clients
                          if c.startswith("worker-")]
                assert others == ["worker-{n}"]
                assert ch_oauth.exchange(ch_oauth.authorise().code)["access_token"]
            """
            for n in range(8)
        }
    )

    result = pytester.runpytest_subprocess(*QUIET, "-p", "xdist", "-n", "2")

    result.assert_outcomes(passed=8)
    urls: dict[str, set[str]] = {}
    for path in (pytester.path / "urls").iterdir():
        worker, url = path.read_text().split()
        urls.setdefault(worker, set()).add(url)
    assert sorted(urls) == ["gw0", "gw1"]
    assert all(len(seen) == 1 for seen in urls.values()), urls
    ports = {urlsplit(url).port for seen in urls.values() for url in seen}
    assert len(ports) == 2
