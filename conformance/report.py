"""The run's reports: a JSON results file and a Markdown page a person reads."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .judge import Results, Verdict, evidence_line, overall
from .requirements import CATALOGUE

__all__ = ["summary_lines", "write_reports"]

MARK = {"pass": "PASS", "fail": "FAIL", "info": "INFO", "skip": "not checked"}


def results_document(
    results: Results, meta: dict[str, Any], expected: Mapping[str, str]
) -> dict[str, Any]:
    """Return the JSON results: one entry per requirement, with its checks."""
    requirements = []
    for rid, verdicts in results.by_requirement().items():
        requirement = CATALOGUE[rid]
        requirements.append(
            {
                "id": rid,
                "level": requirement.level,
                "text": requirement.text,
                "source": requirement.source,
                "fix": requirement.fix,
                "verdict": overall(verdicts),
                "known": expected.get(rid),
                "checks": [v.json() for v in verdicts],
            }
        )
    counts: dict[str, int] = {}
    for item in requirements:
        key = f"{item['level']} {item['verdict']}"
        counts[key] = counts.get(key, 0) + 1
    return {**meta, "counts": counts, "requirements": requirements}


def write_reports(
    results: Results,
    folder: Path,
    meta: dict[str, Any],
    expected: Mapping[str, str],
) -> list[Path]:
    """Write ``results.json`` and ``report.md`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    document = results_document(results, meta, expected)
    json_path = folder / "results.json"
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    markdown_path = folder / "report.md"
    markdown_path.write_text(markdown(document), encoding="utf-8")
    return [json_path, markdown_path]


def markdown(document: dict[str, Any]) -> str:
    """Render the results as Markdown."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(document["finished"]))
    lines = [
        f"# OAuth conformance: {document['client']}",
        "",
        f"Target: {document['target']}. Finished {when}, "
        f"{document['duration']:.1f} s, {document['scenarios']} scenarios.",
        "",
        "| requirement | level | verdict | source |",
        "|---|---|---|---|",
    ]
    for item in document["requirements"]:
        lines.append(
            f"| `{item['id']}` | {item['level']} | {MARK[item['verdict']]} "
            f"| {item['source']} |"
        )
    for item in document["requirements"]:
        lines += _section(item)
    return "\n".join(lines) + "\n"


def _section(item: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"## `{item['id']}` — {item['level']} — {MARK[item['verdict']]}",
        "",
        item["text"],
        "",
        f"Source: {item['source']}.",
    ]
    if item["verdict"] == "fail":
        lines += ["", f"**What to change:** {item['fix']}"]
    if item["known"]:
        lines += ["", f"**Known for this client:** {item['known']}"]
    for check in item["checks"]:
        lines += [
            "",
            f"- {MARK[check['outcome']]} in `{check['test']}`: {check['detail']}",
        ]
        for evidence in check["evidence"][:12]:
            line = evidence_line(evidence).replace("`", "'")
            lines.append(f"  - `{line}`")
    return lines


def summary_lines(
    results: Results, report_paths: Sequence[Path], expected: Mapping[str, str]
) -> list[str]:
    """The one-screen summary printed at the end of the run."""
    grouped = results.by_requirement()
    lines = []
    tally: dict[str, int] = {}
    for rid, verdicts in grouped.items():
        verdict = overall(verdicts)
        level = CATALOGUE[rid].level
        tally[f"{level} {verdict}"] = tally.get(f"{level} {verdict}", 0) + 1
        known = (
            " [known for this client]" if verdict == "fail" and rid in expected else ""
        )
        lines.append(
            f"{MARK[verdict]:<12} {level:<6} {rid}{known}{_first_failure(verdicts)}"
        )
    must_failed = tally.get("MUST fail", 0)
    lines.append("")
    lines.append(
        f"MUST: {tally.get('MUST pass', 0)} passed, {must_failed} failed; "
        f"SHOULD: {tally.get('SHOULD pass', 0)} passed, {tally.get('SHOULD fail', 0)} "
        f"failed; not checked: {sum(v for k, v in tally.items() if k.endswith('skip'))}"
    )
    for path in report_paths:
        lines.append(f"report: {path}")
    return lines


def _first_failure(verdicts: Sequence[Verdict]) -> str:
    for verdict in verdicts:
        if verdict.outcome == "fail":
            return f"  ({verdict.detail[:70]})"
    return ""
