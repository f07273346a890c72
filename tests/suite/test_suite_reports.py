"""What a run leaves behind: results.json, report.md, JUnit XML and the terminal
summary, with credentials, tokens and codes never shown whole."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from suite_support import SuiteRun

from conformance.requirements import CATALOGUE

ALL_EXAMPLES = ["reference", "adapter", "requests_oauthlib_client", "authlib_client"]
RUN_FIELDS = {
    "client",
    "profile",
    "target",
    "started",
    "finished",
    "duration",
    "scenarios",
    "counts",
    "requirements",
}
REQUIREMENT_FIELDS = {
    "id",
    "level",
    "text",
    "source",
    "fix",
    "verdict",
    "known",
    "checks",
}
CHECK_FIELDS = {"requirement", "outcome", "detail", "test", "evidence"}
# Every fake-target run registers a secret with this prefix; a report showing the
# prefix whole shows more of the secret than a six-character cut would.
SECRET_PREFIX = "conformance-secret-"
_NAMES = r"(?<![\w-])(?:code|state|access_token|refresh_token|client_secret)"
SHOWN_VALUES = [
    re.compile(_NAMES + r"=([^&\s'\"`<]*)"),  # in a URL or a form
    re.compile(_NAMES + r"""["']:\s*["']([^"']*)"""),  # in JSON or a Python dict
    re.compile(r"""authorization[=:"'\s]{1,4}(?:Bearer|Basic) ([^\s"'&<,]*)"""),
]
# The fake's truncated-JSON fault carries this made-up token, never an issued one.
ARRANGED_TOKEN = "truncated-token-value-that-never"


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON document."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _results_text(document: dict[str, Any]) -> str:
    """results.json as text, with the JSON bodies it quotes decoded."""
    parts = [json.dumps(document, ensure_ascii=False)]
    for text in _strings(document):
        try:
            parts.append(json.dumps(json.loads(text), ensure_ascii=False))
        except ValueError:
            parts.append(text)
    return "\n".join(parts)


def _everything_shown(run: SuiteRun) -> dict[str, str]:
    return {
        "terminal": run.output,
        "results.json": _results_text(run.results),
        "report.md": run.report_md,
        "junit.xml": run.junit.read_text(encoding="utf-8"),
    }


def _is_cut(value: str) -> bool:
    return value == "" or (value.endswith("…") and len(value) <= 7)


@pytest.fixture
def reference(example_run: Callable[[str], SuiteRun]) -> SuiteRun:
    """The reference client's full run on the fake."""
    return example_run("reference")


def test_results_json_describes_the_run(reference: SuiteRun) -> None:
    document = reference.results

    assert RUN_FIELDS <= set(document)
    assert document["client"] == "reference client"
    assert document["target"] == "fake"
    assert document["scenarios"] == len(reference.testcases()) > 0
    assert document["finished"] >= document["started"]


def test_results_json_has_every_requirement_with_its_catalogue_entry(
    reference: SuiteRun,
) -> None:
    requirements = reference.results["requirements"]

    assert [r["id"] for r in requirements] == list(CATALOGUE)
    for item in requirements:
        entry = CATALOGUE[item["id"]]
        assert set(item) == REQUIREMENT_FIELDS
        assert (item["level"], item["text"], item["source"], item["fix"]) == (
            entry.level,
            entry.text,
            entry.source,
            entry.fix,
        )
        assert item["verdict"] in ("pass", "fail", "info", "skip")


def test_results_json_counts_the_verdicts_by_level(reference: SuiteRun) -> None:
    document = reference.results

    tally = Counter(f"{r['level']} {r['verdict']}" for r in document["requirements"])

    assert document["counts"] == dict(tally)
    assert sum(document["counts"].values()) == len(CATALOGUE)


def test_results_json_checks_name_their_test_and_evidence(reference: SuiteRun) -> None:
    requirements = reference.results["requirements"]

    for item in requirements:
        assert item["checks"], item["id"]
        for check in item["checks"]:
            assert set(check) == CHECK_FIELDS
            assert check["requirement"] == item["id"]
            assert check["test"].startswith("conformance/suite/test_")
            assert "::" in check["test"]
            assert check["outcome"] in ("pass", "fail", "info", "skip")
            assert check["detail"]
            for evidence in check["evidence"]:
                assert "browser" in evidence or {"seq", "request", "status"} <= set(
                    evidence
                )
    exchanges = [
        e
        for r in requirements
        for c in r["checks"]
        for e in c["evidence"]
        if "request" in e
    ]
    assert any(e["request"] == "POST /oauth2/token" for e in exchanges)


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_reports_never_show_the_client_secret(
    example_run: Callable[[str], SuiteRun], name: str
) -> None:
    run = example_run(name)

    shown = _everything_shown(run)

    leaks = [where for where, text in shown.items() if SECRET_PREFIX in text]
    assert leaks == []


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_reports_show_tokens_codes_and_states_cut_short(
    example_run: Callable[[str], SuiteRun], name: str
) -> None:
    run = example_run(name)

    shown = _everything_shown(run)

    seen = [
        (where, match.group(0), match.group(1))
        for where, text in shown.items()
        for pattern in SHOWN_VALUES
        for match in pattern.finditer(text)
    ]
    for pattern in SHOWN_VALUES:
        assert any(pattern.search(text) for text in shown.values()), pattern.pattern
    whole = [
        (where, shown_as)
        for where, shown_as, value in seen
        if not _is_cut(value) and not value.startswith(ARRANGED_TOKEN)
    ]
    assert whole == []


def test_junit_xml_has_one_testcase_per_scenario(reference: SuiteRun) -> None:
    testcases = reference.testcases()

    names = Counter(f"{t.get('classname')}.{t.get('name')}" for t in testcases)
    scenarios = {
        check["test"]
        for r in reference.results["requirements"]
        for check in r["checks"]
    }
    assert len(testcases) == len(scenarios) == reference.results["scenarios"]
    assert max(names.values()) == 1
    short_names = {scenario.partition("::")[2] for scenario in scenarios}
    assert {t.get("name") for t in testcases} == short_names


def test_terminal_summary_prints_the_tally_and_report_paths(
    reference: SuiteRun,
) -> None:
    levels = Counter(r.level for r in CATALOGUE.values())

    lines = reference.stdout.splitlines()

    assert (
        f"MUST: {levels['MUST']} passed, 0 failed; "
        f"SHOULD: {levels['SHOULD']} passed, 0 failed; not checked: 0"
    ) in lines
    assert f"report: {reference.report_dir / 'results.json'}" in lines
    assert f"report: {reference.report_dir / 'report.md'}" in lines
    for rid in CATALOGUE:
        assert any(line.split()[-1:] == [rid] for line in lines), rid


def test_report_md_has_a_section_per_requirement(reference: SuiteRun) -> None:
    text = reference.report_md

    assert text.startswith("# OAuth conformance: reference client\n")
    for rid, entry in CATALOGUE.items():
        assert f"| `{rid}` | {entry.level} |" in text
        assert f"## `{rid}` — {entry.level} — " in text
