"""Django's PostgreSQL backend with a health check that costs no round trip (base.py).
DATABASES' ENGINE points here when DATABASE_URL is postgres://."""
