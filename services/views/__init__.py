"""Server-rendered pages, thin, one module per page group: teams, services (the registry),
builder, chat, history, snippet_panel and keys; health for the load balancer. Each reads: ask
services/access.py, validate a form, call one function, redirect or render."""
