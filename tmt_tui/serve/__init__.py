"""`tmt serve`: the workstation in a browser, one `tmt attach` per tab, behind a token gate.

textual-serve runs a command per browser tab and relays its terminal over a WebSocket; it has
no authentication of its own and hands each command its whole environment. This package adds
what a trading screen needs before it goes near a browser: a gate that asks for the control
API's token (or takes a one-time link) before any page, script or socket is served, and an
environment for the app processes with the venues' and databases' secrets taken out.
"""
