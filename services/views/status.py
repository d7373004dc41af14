"""The status board (/status/): each service of the user's teams as its probe last found it,
with uptime over 24 hours and a sparkline of its latency by the hour (services/status.py)."""

from django.shortcuts import render

from services import status


def status_board(request):
    rows = status.board(request.user)
    counts = {state: sum(1 for row in rows if row.state == state)
              for state in ("up", "down", "unknown")}
    return render(request, "services/status/board.html", {"rows": rows, "counts": counts})
