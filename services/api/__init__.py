"""The JSON API (django-ninja): core.py what every route shares, one router per area (teams.py,
services.py, calls.py, snippets.py), schemas.py the shapes, urls.py the API and its URLs.
The contract is docs/api.md."""
