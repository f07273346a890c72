"""The fake's clock: read it, move it, let codes and tokens expire without waiting."""

from __future__ import annotations

import time

import pytest


def test_clock_follows_the_system_clock_until_moved(ch_oauth):
    before = time.time()

    now = ch_oauth.control.now()

    assert before <= now <= time.time()


def test_advance_moves_the_clock_forward_and_returns_the_new_time(ch_oauth):
    before = ch_oauth.control.now()

    moved = ch_oauth.control.advance(seconds=3600)

    assert moved - before >= 3600
    assert ch_oauth.control.now() >= moved
    assert ch_oauth.provider.clock.offset == 3600


@pytest.mark.parametrize(
    ("seconds", "error"),
    [(-1, ValueError), (-0.001, ValueError), ("60", TypeError)],
    ids=["minus-one", "a-little-backwards", "text"],
)
def test_advance_refuses_to_go_backwards_or_a_non_number(ch_oauth, seconds, error):
    with pytest.raises(error):
        ch_oauth.control.advance(seconds=seconds)

    assert ch_oauth.provider.clock.offset == 0


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(0, 200), (119, 200), (120, 400), (3600, 400)],
    ids=["at-once", "at-119s", "at-120s", "an-hour-later"],
)
def test_code_lives_120_seconds_on_the_fake_clock(ch_oauth, app, seconds, status):
    code = ch_oauth.authorise().code
    ch_oauth.advance(seconds)

    answer = app.token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=ch_oauth.settings.redirect_uri,
    )

    assert answer.status_code == status
    if status == 400:
        assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(3599, 200), (3600, 401)],
    ids=["just-before", "at-expiry"],
)
def test_access_token_lives_an_hour_on_the_fake_clock(ch_oauth, app, seconds, status):
    access_token = app.tokens()["access_token"]
    ch_oauth.advance(seconds)

    verify = app.verify(access_token)

    assert verify.status_code == status


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(3600, 200), (7 * 86400 - 60, 200), (7 * 86400, 400)],
    ids=["after-an-hour", "a-minute-before-7-days", "at-7-days"],
)
def test_refresh_token_lives_seven_days_on_the_fake_clock(
    ch_oauth, app, seconds, status
):
    refresh_token = app.tokens()["refresh_token"]
    ch_oauth.advance(seconds)

    refresh = app.refresh(refresh_token)

    assert refresh.status_code == status


def test_journal_times_exchanges_on_the_fake_clock(ch_oauth, app):
    ch_oauth.advance(86400)

    app.verify("no-such-token")

    assert ch_oauth.journal("verify")[0].at >= time.time() + 86400 - 1
