"""The OANDA v20 venue: our async adapter to OANDA's REST and streaming API. The local v20
simulator it is tested against is ``venues.oanda_sim``, which this package never imports."""
