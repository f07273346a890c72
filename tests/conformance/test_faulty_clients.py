"""The conformance suite against clients with one known defect each.

Every faulty client is the reference client with one defect applied by
tests/faulty_clients/run.py. The suite runs against it in a subprocess, and the
requirements it fails must be exactly the ones that defect breaks: no fewer (the
suite would miss the defect) and no more (it would blame the client wrongly).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.requirements import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
FAULTY = ROOT / "tests" / "faulty_clients"
RUN = FAULTY / "run.py"
REFERENCE_PROFILE = ROOT / "examples" / "reference" / "profile.toml"
SUITE_TIMEOUT = 120.0
TAIL_LINES = 30

# A client that never finishes a sign-in fails what a sign-in should have shown:
# the signed-in page, the token variants, the company filings and the profile read.
# The refresh scenarios need a signed-in client to start from, so they are reported
# as not checked rather than failed.
NEVER_SIGNED_IN = frozenset(
    {
        "signed-in",
        "token-response-tolerant",
        "wrong-auth-code-recovers",
        "company-scope",
        "profile-read",
    }
)

EXPECTED_FAILURES: dict[str, frozenset[str]] = {
    # Without a state there is nothing to check, so a replayed callback is
    # exchanged a second time as well; state-unique has nothing to compare.
    "no-state": frozenset(
        {
            "state-present",
            "state-unguessable",
            "state-checked",
            "code-exchanged-once",
        }
    ),
    "short-state": frozenset({"state-unguessable"}),
    "state-reused": frozenset({"state-unique"}),
    # The replayed callback is exchanged again: the code goes out twice.
    "no-state-check": frozenset({"state-checked", "code-exchanged-once"}),
    # The service refuses the request, so no code is ever issued: nothing to
    # exchange, and code-exchanged-once and redirect-uri-identical are not checked.
    "wrong-response-type": NEVER_SIGNED_IN.union(
        {"authorise-request", "token-request"}
    ),
    # The scope names no company, so no filing can be made, including the ones
    # the refresh scenario makes after each expiry.
    "no-company-scope": frozenset(
        {"company-scope", "refresh-on-expiry", "refresh-token-kept"}
    ),
    "ignores-callback-error": frozenset({"callback-error-handled"}),
    # RFC 6749 §4.1.2: the second use of a code revokes its tokens, so every later
    # filing fails, and so do the refreshes that follow it.
    "code-exchanged-twice": frozenset(
        {
            "code-exchanged-once",
            "company-scope",
            "refresh-on-expiry",
            "refresh-token-kept",
        }
    ),
    # The service refuses every exchange, so no one is ever signed in.
    "redirect-uri-changed": NEVER_SIGNED_IN.union(
        {"redirect-uri-identical", "token-request"}
    ),
    "secret-in-query": frozenset({"secret-not-in-url"}),
    # A GET carries the secret in its URL, and the service refuses it (405); its
    # code and redirect_uri are right, so only the method and the secret fail.
    "token-request-get": NEVER_SIGNED_IN.union({"token-request", "secret-not-in-url"}),
    "uses-oauth-aliases": frozenset({"oauth2-paths"}),
    # Waiting past its own timeout is slow, not unsafe: only the SHOULD fails.
    "no-timeout": frozenset({"token-timeout"}),
    "html-500-is-success": frozenset({"token-error-not-success"}),
    # The reference renders any crash as a 400 page, so no 5xx reaches the person.
    "crashes-on-string-expires-in": frozenset({"token-response-tolerant", "signed-in"}),
    "failed-sign-in-is-500": frozenset({"no-server-error"}),
    "no-profile-read": frozenset({"profile-read"}),
    # /user/profile refuses a token in the query, so no sign-in completes; the one
    # profile call carries no Authorization header.
    "token-in-query": NEVER_SIGNED_IN.union({"bearer-header"}),
    "api-refusal-is-success": frozenset({"api-refusal-handled"}),
    # Without a refresh the filings after each expiry fail too.
    "no-refresh": frozenset(
        {"refresh-on-expiry", "refresh-token-kept", "refresh-refused-reauthorise"}
    ),
    "drops-refresh-token": frozenset({"refresh-token-kept"}),
    "no-reauthorise": frozenset({"refresh-refused-reauthorise"}),
}

PROFILE = """\
[client]
name = "faulty client: {defect}"
command = ["{{python}}", {run}, "{defect}", "--port", "{{port}}"]
base_url = "http://127.0.0.1:{{port}}"
ready_path = "/healthz"
login_path = "/login"
redirect_uri = "http://127.0.0.1:{{port}}/callback"
http_timeout = 0.5

[client.env]
CH_IDENTITY_URL = "{{identity_url}}"
CH_API_URL = "{{api_url}}"
CH_CLIENT_ID = "{{client_id}}"
CH_CLIENT_SECRET = "{{client_secret}}"
CH_REDIRECT_URI = "{{redirect_uri}}"
CH_HTTP_TIMEOUT = "{{http_timeout}}"

[success]
path = "/me"
text = "Signed in as"

[api]
path = "/file?company={{company_number}}"
"""


@dataclass(frozen=True)
class SuiteRun:
    """What one run of the suite left behind."""

    returncode: int
    stdout: str
    stderr: str
    results: dict[str, Any]
    report: str

    @property
    def verdicts(self) -> dict[str, str]:
        """Each requirement's verdict over the run."""
        return {r["id"]: r["verdict"] for r in self.results.get("requirements", [])}

    @property
    def failing(self) -> frozenset[str]:
        """The requirements the run failed."""
        return frozenset(r for r, v in self.verdicts.items() if v == "fail")

    def details(self, requirement: str) -> list[str]:
        """The checks of one requirement, a line each."""
        item = next(
            (r for r in self.results.get("requirements", []) if r["id"] == requirement),
            {"checks": []},
        )
        return [
            f"{c['outcome']} in {c['test'].rpartition('::')[2]}: {c['detail']}"
            for c in item["checks"]
        ]

    def explain(self, expected: frozenset[str] = frozenset()) -> str:
        """A failure message: the difference of the sets, the checks, the tails."""
        lines = [
            f"suite exit status {self.returncode}",
            f"failed, not expected: {sorted(self.failing - expected)}",
            f"expected, not failed: {sorted(expected - self.failing)}",
        ]
        for requirement in sorted(self.failing ^ expected):
            lines.append(f"{requirement}:")
            lines += [f"  {line}" for line in self.details(requirement)]
        lines.append("report.md, last lines:")
        lines += self.report.splitlines()[-TAIL_LINES:]
        if not self.results:
            lines.append("no results.json; the suite's output ends:")
            lines += (self.stdout + self.stderr).splitlines()[-TAIL_LINES:]
        return "\n".join(lines)


def run_suite(profile: Path, folder: Path) -> SuiteRun:
    """Run the suite against a profile, in ``folder``, in a subprocess."""
    report = folder / "report"
    argv = [
        sys.executable, "-m", "pytest", "--pyargs", "conformance",
        "--client", str(profile), "--report", str(report),
        "-p", "no:cacheprovider", "-q",
    ]  # fmt: skip
    # The outer run's PYTEST_* variables (xdist's worker id, addopts) are not the
    # inner run's business.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    process = subprocess.Popen(
        argv, cwd=folder, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=SUITE_TIMEOUT)
    except subprocess.TimeoutExpired:
        stdout, stderr = interrupt(process)
        tail = "\n".join((stdout + stderr).splitlines()[-TAIL_LINES:])
        pytest.fail(f"the suite did not finish within {SUITE_TIMEOUT:g} s:\n{tail}")

    results = report / "results.json"
    markdown = report / "report.md"
    return SuiteRun(
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        results=json.loads(results.read_text()) if results.exists() else {},
        report=markdown.read_text(encoding="utf-8") if markdown.exists() else "",
    )


def interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Stop a suite run that overran, letting it stop the client it started."""
    # SIGINT makes pytest tear its session down, which stops the client process;
    # a kill would leave the client running in its own session.
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def write_profile(folder: Path, defect: str) -> Path:
    """Write the profile of the reference client with ``defect`` into ``folder``."""
    path = folder / "profile.toml"
    path.write_text(PROFILE.format(defect=defect, run=json.dumps(str(RUN))))
    return path


def must_fail(requirements: frozenset[str]) -> bool:
    """Whether any of the requirements is a MUST, which fails the suite's run."""
    return any(CATALOGUE[r].level == "MUST" for r in requirements)


@pytest.mark.parametrize("defect", sorted(EXPECTED_FAILURES))
def test_faulty_client_fails_exactly_what_its_defect_breaks(
    defect: str, tmp_path: Path
) -> None:
    expected = EXPECTED_FAILURES[defect]
    profile = write_profile(tmp_path, defect)

    run = run_suite(profile, tmp_path)

    assert run.failing == expected, run.explain(expected)
    assert run.returncode == (1 if must_fail(expected) else 0), run.explain(expected)


def test_reference_client_passes_every_requirement(tmp_path: Path) -> None:
    run = run_suite(REFERENCE_PROFILE, tmp_path)

    wrong = {
        rid: verdict
        for rid, verdict in run.verdicts.items()
        if verdict != ("info" if CATALOGUE[rid].level == "INFO" else "pass")
    }
    assert run.verdicts.keys() == CATALOGUE.keys(), run.explain()
    assert not wrong, f"{wrong}\n{run.explain()}"
    assert run.returncode == 0, run.explain()


def test_suite_prints_the_failed_must_with_evidence_and_fix(tmp_path: Path) -> None:
    requirement = CATALOGUE["state-checked"]

    run = run_suite(FAULTY / "no_state_check.toml", tmp_path)

    blocks = run.stdout.split(f"MUST {requirement.id}: ")[1:]
    assert blocks, run.explain(EXPECTED_FAILURES["no-state-check"])
    block = blocks[0].split("\n\n")[0]
    assert block.startswith(requirement.text)
    assert f"\n  fix: {requirement.fix}\n" in block
    assert "\n  evidence: " in block
    assert run.returncode == 1


def test_every_must_requirement_is_caught_by_a_faulty_client() -> None:
    missed = uncaught("MUST")

    assert not missed, f"no faulty client fails these MUST requirements: {missed}"


def test_every_should_requirement_is_caught_by_a_faulty_client() -> None:
    missed = uncaught("SHOULD")

    assert not missed, f"no faulty client fails these SHOULD requirements: {missed}"


def uncaught(level: str) -> set[str]:
    """The requirements of a level that no faulty client is expected to fail."""
    caught = frozenset[str]().union(*EXPECTED_FAILURES.values())
    return {r.id for r in CATALOGUE.values() if r.level == level} - caught


def test_faulty_client_launcher_lists_the_defects_of_this_table() -> None:
    listed = subprocess.run(
        [sys.executable, str(RUN), "list"], capture_output=True, text=True, check=True
    )

    unknown = subprocess.run(
        [sys.executable, str(RUN), "no-such-defect", "--port", "1"],
        capture_output=True,
        text=True,
    )

    names = {line.split()[0] for line in listed.stdout.splitlines()}
    assert names == EXPECTED_FAILURES.keys()
    assert unknown.returncode == 2
    assert all(name in unknown.stderr for name in EXPECTED_FAILURES)
