"""The daemon itself as a domain: health, version, status, plugins and the event stream."""
