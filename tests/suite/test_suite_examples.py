"""The example clients on the fake: the reference and the adapter pass everything;
the library clients fail exactly what their profiles say they are known to fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from suite_support import EXAMPLES, SuiteRun

from conformance.profile import load_profile

LIBRARY_CLIENTS = ["requests_oauthlib_client", "authlib_client"]
CONFORMING_CLIENTS = ["reference", "adapter"]


@pytest.mark.parametrize("name", LIBRARY_CLIENTS)
def test_library_client_fails_exactly_its_expected_failures(
    example_run: Callable[[str], SuiteRun], name: str
) -> None:
    expected = load_profile(EXAMPLES / name / "profile.toml").expected_failures

    run = example_run(name)

    failed = {rid for rid, verdict in run.verdicts().items() if verdict == "fail"}
    assert failed == set(expected), run.output
    assert run.returncode == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("name", LIBRARY_CLIENTS)
def test_library_client_failures_carry_the_profiles_note(
    example_run: Callable[[str], SuiteRun], name: str
) -> None:
    expected = load_profile(EXAMPLES / name / "profile.toml").expected_failures

    run = example_run(name)

    for rid, note in expected.items():
        assert run.requirement(rid)["known"] == note
        assert f"**Known for this client:** {note}" in run.report_md
        assert f"{rid} [known for this client]" in run.stdout


@pytest.mark.parametrize("name", CONFORMING_CLIENTS)
def test_conforming_client_passes_every_requirement_on_the_fake(
    example_run: Callable[[str], SuiteRun], name: str
) -> None:
    run = example_run(name)

    assert run.returncode == pytest.ExitCode.OK, run.output
    not_passed = {
        rid: v for rid, v in run.verdicts().items() if v not in ("pass", "info")
    }
    assert not_passed == {}
    assert "Known for this client" not in run.report_md
