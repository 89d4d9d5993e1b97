"""The replay venue: recorded ticks (a journal's or a CSV's) played through the engine, on the
ticks' clock, with the paper broker filling at the replayed prices (`tmt replay`)."""
