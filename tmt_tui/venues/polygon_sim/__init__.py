"""A local server that speaks the Polygon / Massive WebSocket protocol on the simulated market
(``tmt polygon-sim``), with the faults a real feed has, for trying and testing offline."""
