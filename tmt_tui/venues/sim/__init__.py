"""The built-in simulated market and paper broker: the default venue, so tmt runs anywhere."""
