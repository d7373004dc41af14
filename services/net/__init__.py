"""The outbound layer, with no Django: endpoints (parse, host policy), addresses, joining a
base with a path, and the HTTP client. docs/architecture.md says who may call it."""
