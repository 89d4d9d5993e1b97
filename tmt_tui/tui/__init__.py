"""The Textual face of tmt: an app on an EngineClient, rendering what the engine sends."""
