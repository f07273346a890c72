"""Verdicts: each check of a requirement, with the exchanges that justify it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mock_provider.journal import Exchange

from .requirements import CATALOGUE, Requirement
from .user_agent import Step

__all__ = [
    "Judge",
    "Results",
    "Verdict",
    "evidence_line",
    "explain",
    "overall",
]

Outcome = Literal["pass", "fail", "info", "skip"]
ALWAYS_CHECKED = ("no-server-error",)


@dataclass(frozen=True)
class Verdict:
    """One check of one requirement in one test."""

    requirement: str
    outcome: Outcome
    detail: str
    test: str
    evidence: tuple[dict[str, Any], ...] = ()

    def json(self) -> dict[str, Any]:
        """Return the verdict as a JSON-ready dict."""
        return {
            "requirement": self.requirement,
            "outcome": self.outcome,
            "detail": self.detail,
            "test": self.test,
            "evidence": list(self.evidence),
        }


@dataclass
class Results:
    """Every verdict of the run, shared by the tests and the report."""

    verdicts: list[Verdict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, verdict: Verdict) -> None:
        """Record a verdict."""
        with self.lock:
            self.verdicts.append(verdict)

    def by_requirement(self) -> dict[str, list[Verdict]]:
        """Group the verdicts by requirement, in catalogue order."""
        grouped: dict[str, list[Verdict]] = {rid: [] for rid in CATALOGUE}
        for verdict in self.verdicts:
            grouped.setdefault(verdict.requirement, []).append(verdict)
        return grouped


def overall(verdicts: Sequence[Verdict]) -> Outcome:
    """A requirement's verdict over the run: any failure fails it."""
    outcomes = {v.outcome for v in verdicts}
    order: tuple[Outcome, ...] = ("fail", "pass", "info")
    for outcome in order:
        if outcome in outcomes:
            return outcome
    return "skip"


def exchange_evidence(exchange: Exchange) -> dict[str, Any]:
    """A compact, redacted record of an exchange for a report."""
    record: dict[str, Any] = {
        "seq": exchange.seq,
        "request": f"{exchange.method} {exchange.path}",
        "status": exchange.status,
    }
    for name in ("query", "form"):
        value = getattr(exchange, name)
        if value:
            record[name] = {k: v[0] if len(v) == 1 else v for k, v in value.items()}
    if exchange.client_auth:
        record["client_auth"] = exchange.client_auth
    auth = exchange.headers.get("Authorization")
    if auth:
        record["authorization"] = auth
    if exchange.notes.get("fault"):
        record["arranged"] = exchange.notes["fault"]
    if exchange.response_body and exchange.response_headers.get(
        "Content-Type", ""
    ).startswith("application/json"):
        record["response"] = exchange.response_body[:300]
    location = exchange.response_headers.get("Location")
    if location:
        record["location"] = location
    return record


def step_evidence(step: Step) -> dict[str, Any]:
    """A compact record of what the browser saw."""
    return {"browser": step.summary()}


class Judge:
    """Records the verdicts of one test on the requirements it names."""

    def __init__(self, test: str, names: Iterable[str], results: Results) -> None:
        self.test = test
        self.names = (*names, *ALWAYS_CHECKED)
        for name in self.names:
            if name not in CATALOGUE:
                raise KeyError(f"{test} names unknown requirement {name!r}")
        self.results = results
        self.verdicts: list[Verdict] = []

    def _record(
        self,
        requirement: str,
        outcome: Outcome,
        detail: str,
        evidence: Iterable[Exchange | Step],
    ) -> None:
        if requirement not in self.names:
            raise KeyError(f"{self.test} does not name requirement {requirement!r}")
        verdict = Verdict(
            requirement,
            outcome,
            detail,
            self.test,
            tuple(
                exchange_evidence(e) if isinstance(e, Exchange) else step_evidence(e)
                for e in evidence
            ),
        )
        self.verdicts.append(verdict)
        self.results.add(verdict)

    def check(
        self,
        requirement: str,
        ok: bool,
        detail: str,
        evidence: Iterable[Exchange | Step] = (),
    ) -> bool:
        """Record a pass or a failure; return ``ok``."""
        self._record(requirement, "pass" if ok else "fail", detail, evidence)
        return ok

    def info(
        self, requirement: str, detail: str, evidence: Iterable[Exchange | Step] = ()
    ) -> None:
        """Record an observation that passes or fails nothing."""
        self._record(requirement, "info", detail, evidence)

    def skip(self, requirement: str, reason: str) -> None:
        """Record that a requirement could not be checked here, and why."""
        self._record(requirement, "skip", reason, ())

    def skip_unjudged(self, reason: str) -> None:
        """Skip every named requirement this test has not judged yet."""
        judged = {v.requirement for v in self.verdicts}
        for name in self.names:
            if name not in judged and name not in ALWAYS_CHECKED:
                self.skip(name, reason)

    def failures(self, level: str | None = None) -> list[tuple[Requirement, Verdict]]:
        """The failed checks of this test, optionally of one level."""
        return [
            (CATALOGUE[v.requirement], v)
            for v in self.verdicts
            if v.outcome == "fail"
            and (level is None or CATALOGUE[v.requirement].level == level)
        ]


def explain(failures: Sequence[tuple[Requirement, Verdict]]) -> str:
    """A failure message a developer can act on."""
    blocks = []
    for requirement, verdict in failures:
        lines = [
            f"{requirement.level} {requirement.id}: {requirement.text}",
            f"  found: {verdict.detail}",
            f"  source: {requirement.source}",
            f"  fix: {requirement.fix}",
        ]
        for item in verdict.evidence[:8]:
            lines.append(f"  evidence: {evidence_line(item)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


EVIDENCE_KEYS = (
    "query",
    "form",
    "client_auth",
    "authorization",
    "arranged",
    "location",
)


def evidence_line(item: dict[str, Any]) -> str:
    """One line of evidence: a browser step, or an exchange with its details."""
    if "browser" in item:
        return f"browser: {item['browser']}"
    parts = [f"#{item['seq']} {item['request']} -> {item['status']}"]
    parts += [
        f"{key}={json.dumps(item[key], ensure_ascii=False)}"
        for key in EVIDENCE_KEYS
        if key in item
    ]
    return " ".join(parts)
