"""Server-rendered pages, thin, one module per page group: teams, services (the registry),
builder, history and snippet_panel; health for the load balancer. Each reads: ask
services/access.py, validate a form, call one function, redirect or render."""
