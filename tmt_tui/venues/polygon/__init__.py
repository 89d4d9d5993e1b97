"""Polygon.io / Massive market data over WebSocket: quotes, trades and bars for FX pairs,
stocks and crypto, and a local server that speaks the same protocol (``tmt polygon-sim``)."""
