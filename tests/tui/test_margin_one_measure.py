"""Margin is one measure everywhere: used over equity, labelled `eq`, in the header (wide and
compact), the risk gauges and the ticket's preview; never used over what is still available."""

from __future__ import annotations

import re

from textual.widgets import Static

from tests.support.pilot import screen_text, ticket_ready, until
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.tui.app import TmtApp

#: `used/equity eq share%`, as every place shows it (amounts may be compact: `36.1k`).
MARGIN = re.compile(r"([\d,.]+k?)/([\d,.]+k?) eq +(\d+\.\d)%")
#: A risk gauge: the bar's share, then `used/equity eq`.
GAUGE = re.compile(r"(\d+\.\d)% ([\d,.]+)/([\d,.]+) eq")


def amount(text: str) -> float:
    text = text.replace(",", "")
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


def assert_used_over_equity(line: str) -> None:
    """The share shown is the used amount over the equity amount beside it (as rounded)."""
    found = MARGIN.search(line)
    assert found, line
    used, equity, share = amount(found[1]), amount(found[2]), float(found[3])
    assert abs(used / equity * 100 - share) <= 0.2, line


async def test_header_gauges_and_ticket_show_margin_used_over_equity(
    app: TmtApp, ready, client
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        # a position big enough that used/equity (~36%) and used/available (~56%) differ
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000_000))).ok
        await until(pilot, lambda: "SIM-USD:EUR_USD" in app.model.positions, "the position")

        def shown() -> tuple[str, re.Match[str]] | None:
            lines = screen_text(app).splitlines()
            header = [x for x in lines if "SIM-USD  Eq" in x and MARGIN.search(x)]
            gauge = [GAUGE.search(x) for x in lines if "Margin  " in x and GAUGE.search(x)]
            first = gauge[0] if gauge else None
            if not header or first is None or first[1] == "0.0":
                return None
            return header[0], first

        await until(pilot, shown, "margin in the header and the gauges")
        header, gauge = shown() or ("", None)
        assert_used_over_equity(header)
        assert float(MARGIN.search(header)[3]) > 30  # type: ignore[index]
        assert gauge is not None  # the bar's share, then the figures it is the share of
        assert_used_over_equity(f"{gauge[2]}/{gauge[3]} eq {gauge[1]}%")

        await pilot.press("home", "b", *"1000")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        preview = app.screen.query_one("#ticket-preview", Static)
        await until(pilot, lambda: "eq" in str(preview.render()), "the preview's margin")
        assert_used_over_equity(str(preview.render()))


async def test_the_compact_header_shows_the_same_measure(app: TmtApp, ready, client) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000_000))).ok
        await until(pilot, lambda: "SIM-USD:EUR_USD" in app.model.positions, "the position")
        await until(
            pilot,
            lambda: re.search(r"SIM-USD .* M [\d.]+k/[\d.]+k eq [1-9]", screen_text(app)),
            "the compact margin",
        )
        line = next(x for x in screen_text(app).splitlines() if x.startswith(" SIM-USD"))
        assert_used_over_equity(line)
