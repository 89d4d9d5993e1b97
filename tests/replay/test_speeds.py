"""The speeds a replay plays at: what a user may type, and where + and - step to."""

from __future__ import annotations

import pytest

from tmt_tui.domain.replay import MAX_SPEED, faster, parse_speed, slower, speed_label


@pytest.mark.parametrize(
    ("typed", "speed"),
    [("1", 1.0), ("10x", 10.0), ("100", 100.0), ("MAX", MAX_SPEED), ("0.5", 0.5)],
)
def test_a_speed_is_a_multiple_of_real_time_or_max(typed: str, speed: float) -> None:
    assert parse_speed(typed) == speed


@pytest.mark.parametrize("typed", ["fast", "-10", "0", "inf", "nan", "1e9"])
def test_a_speed_that_cannot_be_played_says_why(typed: str) -> None:
    with pytest.raises(ValueError, match="speed"):
        parse_speed(typed)


def test_plus_and_minus_step_through_1x_10x_100x_and_max_and_stop_at_the_ends() -> None:
    ups = [1.0]
    while len(ups) < 5:
        ups.append(faster(ups[-1]))
    downs = [MAX_SPEED]
    while len(downs) < 5:
        downs.append(slower(downs[-1]))

    assert [speed_label(s) for s in ups] == ["1x", "10x", "100x", "max", "max"]
    assert [speed_label(s) for s in downs] == ["max", "100x", "10x", "1x", "1x"]
