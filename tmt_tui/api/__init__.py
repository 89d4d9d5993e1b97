"""The control API: a WebSocket server on a Unix socket and the remote EngineClient."""
