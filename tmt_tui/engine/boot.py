"""Bringing an engine up: open its venue, rebuild state from the journal (the newest checkpoint,
then every event after it through the same ``evolve``), and refuse to start where trading
could not be right (another account's journal, a position nothing can value).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from tmt_tui.config import ConfigError, Settings
from tmt_tui.engine.core import EngineCore
from tmt_tui.engine.portfolio import UnknownInstrument
from tmt_tui.monitoring.observer import EngineObserver
from tmt_tui.store.journal import Journal
from tmt_tui.venues.base import Venue, VenueAccount, VenueOpening, VenueRefused

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Booted:
    settings: Settings  # the config, with the accounts the venue named
    core: EngineCore
    replayed: int  # events replayed after the checkpoint
    from_checkpoint: bool


def restore(core: EngineCore, journal: Journal) -> tuple[int, bool]:
    """Bring ``core`` to the journal's state: the newest checkpoint, then every event after it.
    The quotes journaled since the checkpoint widen open trades' excursions as they did live,
    each before the events that came after it (after a crash the checkpoint's excursions are
    older than the last quote). Returns the events replayed and whether there was a
    checkpoint."""
    checkpoint = journal.latest_checkpoint()
    if checkpoint is not None:
        core.state.load_checkpoint(checkpoint)
    ticks = journal.ticks_since(journal.latest_checkpoint_ts() if checkpoint else None)
    try:
        tick = next(ticks, None)
        track = core.portfolio.track_excursions
        replayed = 0
        for event in journal.replay(core.seq):
            while tick is not None and tick[0] <= event.ts:
                track(tick[1], tick[2], tick[3])
                tick = next(ticks, None)
            core.state.evolve(event)
            replayed += 1
        while tick is not None:
            track(tick[1], tick[2], tick[3])
            tick = next(ticks, None)
    finally:
        ticks.close()
    return replayed, checkpoint is not None


async def boot(
    settings: Settings,
    venue: Venue,
    journal: Journal,
    clock: Callable[[], float],
    observer: EngineObserver,
) -> Booted:
    """Open ``venue``, then a core at the journal's state; its broker is not connected yet."""
    opened = await venue.open(
        VenueOpening(
            journal_id=str(journal.journal_id),
            last_quotes=tuple(journal.last_quotes()),
            on_reconnect=observer.reconnected,
        )
    )
    if opened.accounts is not None:  # the venue says which accounts (OANDA: one)
        settings = _take_accounts(settings, opened.accounts, venue.name)
    core = EngineCore(settings, opened.instruments, clock)
    core.decide.on_risk_check = observer.risk_checked
    try:
        replayed, from_checkpoint = restore(core, journal)
    except UnknownInstrument as exc:
        raise ConfigError(
            f"{settings.source}: the journal holds positions in {exc.name}, which is not "
            "among the instruments this engine trades: add it to "
            f"'{_instruments_key(settings)}' (or close it with the config that has it)"
        ) from None
    _check_valuable(settings, core)
    core.state.seq = max(core.seq, journal.last_seq())
    recent = core.state.recent_events
    recent.extend(journal.recent_events(recent.maxlen or 0))
    for quote in journal.last_quotes():
        if quote.instrument in core.quotes.instruments:
            core.quotes.update(quote)
    core.portfolio.revalue()
    if opened.accounts is not None:
        _check_accounts(settings, core)
    venue.resume(
        core.state.venue_cursor,
        core.state.venue_seen,
        core.portfolio.margin_shortfall,
        fresh=not core.state.venue_known,
    )
    core.flags.reconciling = venue.reconciles  # until the first reconciliation completes
    return Booted(settings, core, replayed, from_checkpoint)


def _take_accounts(settings: Settings, accounts: tuple[VenueAccount, ...], venue: str) -> Settings:
    """The venue's accounts replace the config's ids, currencies and balances; the risk
    limits stay the config's (the first ``[[accounts]]`` table serves the first account)."""
    configured = settings.accounts
    settings = replace(
        settings,
        accounts=tuple(
            replace(
                configured[min(i, len(configured) - 1)],
                id=a.id,
                currency=a.currency,
                balance=a.balance,
            )
            for i, a in enumerate(accounts)
        ),
    )
    for a in accounts:
        log.info("%s account %s (%s, balance %s)", venue, a.id, a.currency, a.balance)
    return settings


def _check_valuable(settings: Settings, core: EngineCore) -> None:
    """Every open position can be valued: its quote currency converts into its account's
    through the configured pairs. Otherwise a fill that closes it could not be booked."""
    unvalued = []
    for book in core.portfolio.books.values():
        currency = core.portfolio.accounts[book.account].currency
        if book.units and not core.quotes.convertible(book.quote_ccy, currency):
            unvalued.append(
                f"{book.account} holds {book.units:+,} {book.instrument} but no configured "
                f"instrument converts {book.quote_ccy} into {currency}"
            )
    if unvalued:
        raise ConfigError(
            f"{settings.source}: cannot value open positions: {'; '.join(unvalued)} "
            f"(add the pair, or both legs through USD, to '{_instruments_key(settings)}')"
        )


def _check_accounts(settings: Settings, core: EngineCore) -> None:
    """One journal, one venue account: never mix another account's history into this one."""
    expected = {a.id for a in settings.accounts}
    foreign = sorted(set(core.portfolio.accounts) - expected)
    if foreign:
        raise VenueRefused(
            f"journal {settings.journal_path()} holds account(s) {', '.join(foreign)}, "
            f"not {', '.join(sorted(expected))}: give engine.journal_path a file of its own"
        )


def _instruments_key(settings: Settings) -> str:
    """The config key that lists what this engine trades."""
    return f"{settings.engine.market_data[0]}.instruments"
