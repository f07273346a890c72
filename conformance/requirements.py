"""The catalogue of requirements the suite checks, each with its level and source.

MUST failures fail the run; SHOULD and INFO are reported. A source of "fake
convention" marks a check that rests on a decision the fake made where the real
service's behaviour is unknown (``ch-oauth-facts``), not on a Companies House fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CATALOGUE", "Level", "Requirement", "requirement"]

Level = Literal["MUST", "SHOULD", "INFO"]

RFC6749 = "RFC 6749"
RFC6750 = "RFC 6750"
RFC9700 = "RFC 9700"
CH_GUIDE = "Companies House guide"
CH_SPEC = "Companies House identity service spec"
FAKE = "fake convention"


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """One thing a client must, should or may do, and how to put it right."""

    id: str
    level: Level
    text: str
    source: str
    fix: str


_ALL = [
    Requirement(
        id="authorise-request",
        level="MUST",
        text="The authorisation request has response_type=code, the client_id and a "
        "registered redirect_uri, and the service accepts it.",
        source=f"{RFC6749} §4.1.1; {CH_SPEC} (/oauth2/authorise)",
        fix="Send the person to /oauth2/authorise with response_type=code, client_id, "
        "redirect_uri (exactly as registered), scope and state.",
    ),
    Requirement(
        id="state-present",
        level="MUST",
        text="The authorisation request carries a state value.",
        source=f"{RFC9700} §2.1; {CH_SPEC} (state: required, a nonce for CSRF)",
        fix="Generate a state for every sign-in, keep it in the person's session and "
        "send it with the authorisation request.",
    ),
    Requirement(
        id="state-unguessable",
        level="MUST",
        text="The state carries at least 128 bits of randomness.",
        source=f"{RFC6749} §10.10, §10.12",
        fix="Use a cryptographic random source, e.g. secrets.token_urlsafe(32).",
    ),
    Requirement(
        id="state-unique",
        level="MUST",
        text="Each sign-in uses a new state value.",
        source=f"{RFC6749} §10.12; {RFC9700} §2.1",
        fix="Generate the state per authorisation request, never once per process.",
    ),
    Requirement(
        id="state-checked",
        level="MUST",
        text="A callback whose state is missing, changed or already used is refused "
        "and its code is never exchanged.",
        source=f"{RFC6749} §10.12; {RFC9700} §4.7",
        fix="Compare the callback's state with the one kept in the session "
        "(constant time), and forget it once used; refuse the callback otherwise.",
    ),
    Requirement(
        id="redirect-uri-identical",
        level="MUST",
        text="The token request's redirect_uri is identical to the authorisation "
        "request's.",
        source=f"{RFC6749} §4.1.3",
        fix="Send the same redirect_uri string, byte for byte, at both steps.",
    ),
    Requirement(
        id="secret-not-in-url",
        level="MUST",
        text="The client secret is never put in a URL or anywhere the browser sees.",
        source=f"{RFC6749} §2.3.1, §3.2",
        fix="Send client_secret in the POST body (or HTTP Basic) of the token "
        "request only; never in the query string, a redirect or a page.",
    ),
    Requirement(
        id="token-request",
        level="MUST",
        text="The code is exchanged by a well-formed POST to /oauth2/token that the "
        "service accepts.",
        source=f"{RFC6749} §4.1.3; {CH_SPEC} (/oauth2/token)",
        fix="POST grant_type=authorization_code, code, redirect_uri and the client "
        "credentials to /oauth2/token.",
    ),
    Requirement(
        id="code-exchanged-once",
        level="MUST",
        text="Each authorisation code is exchanged once only.",
        source=f"{RFC6749} §4.1.2, §10.5",
        fix="Exchange the code once; on failure start a new sign-in rather than "
        "retrying the same code.",
    ),
    Requirement(
        id="signed-in",
        level="MUST",
        text="After the person approves, the client shows them signed in.",
        source=CH_GUIDE,
        fix="Finish the flow: exchange the code, keep the tokens in the session and "
        "show the signed-in page.",
    ),
    Requirement(
        id="company-scope",
        level="MUST",
        text="The client asks for the scope of each company it acts for, and can use "
        "its token on those companies.",
        source=f"{CH_GUIDE}; API filing guide",
        fix="Add https://api.company-information.service.gov.uk/company/{number}/... "
        "for every company to the scope, space separated.",
    ),
    Requirement(
        id="callback-error-handled",
        level="MUST",
        text="A callback with error= (the person declined, or the service failed) is "
        "not treated as a sign-in and no token request follows.",
        source=f"{RFC6749} §4.1.2.1",
        fix="Check for error in the callback first; show the person what happened.",
    ),
    Requirement(
        id="token-error-not-success",
        level="MUST",
        text="A failed token response (an error, a 5xx, HTML, broken JSON, no "
        "answer in time) never signs the person in.",
        source=f"{RFC6749} §5.1, §5.2",
        fix="Accept only a 200 JSON object with an access_token and no error; "
        "treat everything else as a failed sign-in.",
    ),
    Requirement(
        id="token-response-tolerant",
        level="MUST",
        text="Token responses as Companies House sends them are accepted: no scope, "
        "expires_in as a string, token_type in any case.",
        source=f"{CH_SPEC} (token response example); {RFC6749} §5.1",
        fix="Do not require scope; parse expires_in as a number or numeric string; "
        "compare token_type case-insensitively.",
    ),
    Requirement(
        id="bearer-header",
        level="MUST",
        text="Access tokens go to the profile and the API in an Authorization: Bearer "
        "header, not in a URL.",
        source=f"{RFC6750} §2.1, §2.3; {CH_SPEC} (/user/profile)",
        fix="Send Authorization: Bearer <token>.",
    ),
    Requirement(
        id="refresh-on-expiry",
        level="MUST",
        text="When the access token has expired, the client refreshes it with the "
        "refresh token and carries on.",
        source=f"{RFC6749} §6",
        fix="On a 401 from the API, POST grant_type=refresh_token and retry once.",
    ),
    Requirement(
        id="refresh-token-kept",
        level="MUST",
        text="A refresh response without a refresh_token leaves the old refresh "
        "token in use: refreshing twice in a row works.",
        source=f"{CH_SPEC} (refresh tokens do not rotate); {RFC6749} §6",
        fix="Keep the stored refresh token unless the response carries a new one.",
    ),
    Requirement(
        id="profile-read",
        level="SHOULD",
        text="The client reads /user/profile to learn who signed in.",
        source=f"{CH_GUIDE}; API filing guide (user/profile.read)",
        fix="GET /user/profile with the access token after the exchange.",
    ),
    Requirement(
        id="no-server-error",
        level="SHOULD",
        text="The client never answers the person with a 5xx or a traceback.",
        source=FAKE,
        fix="Catch failures of the identity service and show the person a page "
        "that says what happened.",
    ),
    Requirement(
        id="token-timeout",
        level="SHOULD",
        text="A token endpoint slower than the client's timeout is given up on, and "
        "the person told, within that timeout and a margin.",
        source=RFC9700,
        fix="Set a timeout on every request to the identity service.",
    ),
    Requirement(
        id="refresh-refused-reauthorise",
        level="SHOULD",
        text="When a refresh is refused, the client sends the person back to sign in.",
        source=f"{RFC6749} §5.2 (invalid_grant)",
        fix="On invalid_grant from a refresh, forget the tokens and start a new "
        "authorisation.",
    ),
    Requirement(
        id="api-refusal-handled",
        level="SHOULD",
        text="When the API refuses the token for a company, the client does not "
        "report success and does not fail with a 5xx.",
        source="API filing guide",
        fix="Treat 401 from the API after a refresh as 'not authorised for this "
        "company' and tell the person.",
    ),
    Requirement(
        id="oauth2-paths",
        level="SHOULD",
        text="The client uses /oauth2/token and /oauth2/verify, not the /oauth/ "
        "spellings of the Developer Hub's prose.",
        source=f"{CH_SPEC}; {FAKE} (the /oauth/ aliases)",
        fix="Use the /oauth2/ paths the spec defines.",
    ),
    Requirement(
        id="wrong-auth-code-recovers",
        level="SHOULD",
        text="A person who types a wrong company auth code and then the right one "
        "ends signed in.",
        source=FAKE,
        fix="Nothing in the client should depend on the auth code step's attempts.",
    ),
    Requirement(
        id="client-auth-method",
        level="INFO",
        text="How the client authenticates at the token endpoint.",
        source=f"{RFC6749} §2.3.1",
        fix="Companies House accepts HTTP Basic or form parameters; the spec shows "
        "form parameters.",
    ),
    Requirement(
        id="verify-used",
        level="INFO",
        text="Whether the client checks its token with /oauth2/verify.",
        source=CH_SPEC,
        fix="Optional.",
    ),
]

CATALOGUE: dict[str, Requirement] = {r.id: r for r in _ALL}


def requirement(requirement_id: str) -> Requirement:
    """Return a requirement by id, raising KeyError with the known ids."""
    try:
        return CATALOGUE[requirement_id]
    except KeyError:
        raise KeyError(
            f"unknown requirement {requirement_id!r}; known: {', '.join(CATALOGUE)}"
        ) from None
