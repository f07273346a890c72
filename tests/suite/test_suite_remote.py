"""Remote targets: the fake with its control plane off stands in for a provider the
suite can neither arrange nor observe, reached by URL or as the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from suite_support import (
    example_document,
    provider_without_control,
    run_suite,
    write_profile,
)

from conformance.requirements import CATALOGUE

# What the suite can judge from the browser alone, and the check every scenario makes.
SEEN_FROM_THE_BROWSER = {
    "authorise-request",
    "state-present",
    "state-unguessable",
    "state-unique",
    "secret-not-in-url",
    "signed-in",
    "callback-error-handled",
    "no-server-error",
}
NEEDS_CONTROL = set(CATALOGUE) - SEEN_FROM_THE_BROWSER


@dataclass(frozen=True)
class Remote:
    """A provider without a control plane, and a profile for a client it knows."""

    url: str
    profile: Path


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    """The fake, control plane off, with the reference client registered on a port."""
    with provider_without_control(tmp_path, example_document("reference")) as (
        url,
        profile,
    ):
        yield Remote(url, profile)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("--target {url}", id="url"),
        pytest.param(
            "--target sandbox --identity-url {url} --api-url {url} --person auto",
            id="sandbox",
        ),
    ],
)
def test_remote_target_judges_what_the_browser_sees_and_skips_the_rest(
    tmp_path: Path, remote: Remote, target: str
) -> None:
    options = target.format(url=remote.url).split()

    run = run_suite(tmp_path / "run", "--client", remote.profile, *options)

    assert run.returncode == pytest.ExitCode.OK, run.output
    verdicts = run.verdicts()
    assert {rid for rid in SEEN_FROM_THE_BROWSER if verdicts[rid] != "pass"} == set()
    assert {rid for rid in NEEDS_CONTROL if verdicts[rid] != "skip"} == set()
    skips = [
        check["detail"]
        for rid in NEEDS_CONTROL
        for check in run.requirement(rid)["checks"]
    ]
    assert [reason for reason in skips if "control plane" not in reason] == []
    assert run.results["target"] == options[1]


def test_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "profile.toml", example_document("reference"))

    run = run_suite(tmp_path / "run", "--client", profile, "--target", "nonsense")

    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--target: expected fake, sandbox or a URL, got 'nonsense'" in run.output
    assert "Traceback" not in run.output


def test_remote_target_without_credentials_is_a_usage_error(tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "profile.toml", example_document("reference"))

    run = run_suite(
        tmp_path / "run", "--client", profile, "--target", "http://127.0.0.1:9"
    )

    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"{profile}: client.client_id and client.client_secret: expected" in (
        run.output
    )
    assert "Traceback" not in run.output
