"""Value types, commands, events and the EngineClient protocol; imports nothing of the project."""
