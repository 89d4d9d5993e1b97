"""Suite 2, "Crash": `tmt engine` killed (SIGKILL) at random moments while client processes
trade through it, then restarted and checked against its journal and its broker."""
