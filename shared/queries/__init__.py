"""Queries: what only the owning service can answer, over NATS request–reply on
`louzu.qry.<tenant>.<service>.<query>` (a roster print, an import checked against the registry).
One module per answering service holds its requests and replies; `serving.py` serves and sends
them the way `shared/commanding.py` does commands; `files.py` carries large answers and uploads
through the JetStream Object Store (docs/events.md)."""
