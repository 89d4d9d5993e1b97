"""The OANDA v20 venue: a local v20-compatible server and our async adapter to OANDA."""
