"""How `make run` and `make bench` serve the portal: gunicorn, which reads this file from the
project folder, with threaded workers (docs/architecture.md, "Serving streams").

A streamed answer holds one of these threads for as long as it lasts, so the pool is large: 64
streams at once still leave threads for the pages. Each thread keeps its own database connection
(CONN_MAX_AGE), and PostgreSQL allows 100 by default, so the default is smaller there.
WEB_WORKERS and WEB_THREADS override both.

A kept-alive connection stays open for KEEPALIVE seconds between requests (gunicorn's default is
2). A client that sends its next request just as the server closes an idle connection loses that
request with a "connection reset" or "remote end closed" error, and requests does not retry a
POST: scripts and SDKs that call the gateway every few seconds, or a client that stalls for a
moment, met exactly that (the load test did, on a slower machine). An idle connection waits in
the worker's poller, not in a thread, so keeping it costs a file descriptor; 75 s is nginx's
default and outlasts the idle limits of the usual client pools and load balancers (60 s).
WEB_KEEPALIVE overrides it.
"""

import os

import environ

# The same .env that the settings read: the database decides the default number of threads.
_env_file = os.environ.get("EASPORTAL_ENV_FILE", ".env")
if _env_file and os.path.isfile(_env_file):
    environ.Env.read_env(_env_file)
_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))

worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", 2))
threads = int(os.environ.get("WEB_THREADS", 40 if _postgres else 64))
keepalive = int(os.environ.get("WEB_KEEPALIVE", 75))
# Workers touch a file on every loop to show they are alive: in memory, not on disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def post_fork(server, worker):
    # Each answer's head goes out with its body, in one send (easportal/serving.py).
    from easportal import serving

    serving.install()
