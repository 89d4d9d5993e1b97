"""The braille chart: a known series draws known dots; no data says so."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.support.pilot import until
from tmt_tui.tui.widgets.chart import NO_DATA, Chart, braille_rows


def test_a_rising_series_draws_a_rising_braille_line() -> None:
    # 4 dot columns x 4 dot rows; each column joins the previous value: bottom-left to top-right.
    assert braille_rows((0, 1, 2, 3), width=2, height=1) == ["⣠⠞"]


def test_a_flat_series_is_drawn_midway_across_the_width() -> None:
    assert braille_rows((5.0,), width=3, height=1) == ["⠤⠤⠤"]


def test_a_long_series_is_bucketed_down_to_the_width_keeping_its_extremes() -> None:
    series = [0.0] * 500 + [10.0] + [0.0] * 499
    rows = braille_rows(series, width=4, height=2)
    assert len(rows) == 2 and all(len(row) == 4 for row in rows)
    assert rows[0].strip(), "the spike reaches the top row"


def test_an_empty_series_draws_nothing() -> None:
    assert braille_rows((), width=10, height=3) == []


class _ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Chart(id="chart")


def _text(app: App[None]) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def test_the_widget_says_no_data_then_draws_the_series_under_its_caption() -> None:
    app = _ChartApp()
    async with app.run_test(size=(20, 4)) as pilot:
        await until(pilot, lambda: NO_DATA in _text(app), "no data")
        chart = app.query_one(Chart)

        chart.caption, chart.series = "equity", (0.0, 1.0, 2.0, 3.0)

        await until(pilot, lambda: "⣀" in _text(app), "the line")
        lines = _text(app).splitlines()
        assert lines[0].startswith("equity") and NO_DATA not in _text(app)
