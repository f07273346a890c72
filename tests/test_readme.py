"""The README's examples run as tests, so the README cannot drift from the code.

Python blocks whose first line names a test module (``# test_<name>.py``) run through
``pytester`` with the plugin active; shell blocks that use ``$CH_MOCK`` run under
``bash -e`` against a running fake, and every ``curl`` in them must print JSON that is
not an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mock_provider import ProviderServer

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
MODULE_NAME = re.compile(r"# (test_\w+)\.py\n")


def _blocks(lang: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [m["body"] for m in FENCE.finditer(text) if m["lang"] == lang]


PYTHON_EXAMPLES = {
    match[1]: body
    for body in _blocks("python")
    if (match := MODULE_NAME.match(body)) is not None
}
SHELL_EXAMPLES = [body for body in _blocks("sh") if "$CH_MOCK" in body]
# Under bash -e, an HTTP error status then stops the script (curl 7.76 or newer).
FAIL_ON_HTTP_ERROR = 'curl() { command curl --fail-with-body "$@"; }\n'


def test_readme_has_the_examples_this_module_runs():
    assert len(PYTHON_EXAMPLES) >= 4
    assert len(SHELL_EXAMPLES) >= 1


@pytest.mark.parametrize("name", sorted(PYTHON_EXAMPLES))
def test_readme_python_example_passes(pytester, name):
    source = PYTHON_EXAMPLES[name]
    pytester.makepyfile(**{name: source})

    # Hypothesis's plugin is not needed and would be imported afresh each run.
    result = pytester.runpytest("-p", "no:hypothesispytest")

    result.assert_outcomes(passed=source.count("\ndef test_"))


def _json_documents(text: str) -> list[object]:
    """Split what several ``curl -s`` calls printed back to back into documents."""
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        document, index = decoder.raw_decode(text, index)
        documents.append(document)
    return documents


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(
    "script", SHELL_EXAMPLES, ids=[f"block-{n}" for n in range(len(SHELL_EXAMPLES))]
)
def test_readme_curl_example_prints_json_without_errors(script):
    curls = len(re.findall(r"^curl ", script, re.MULTILINE))

    with ProviderServer() as server:
        done = subprocess.run(
            ["bash", "-e", "-c", FAIL_ON_HTTP_ERROR + script],
            env={**os.environ, "CH_MOCK": server.url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        errors = server.provider.take_errors()

    assert done.returncode == 0, done.stderr
    documents = _json_documents(done.stdout)
    assert len(documents) == curls, done.stdout
    for document in documents:
        # An error is {"error", "error_description"}; a fault's "error" is a field.
        assert isinstance(document, dict), document
        assert "error_description" not in document, document
    assert errors == []
