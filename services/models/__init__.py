"""The models, by feature: teams.py (Team, Membership, Profile), registry.py (Service),
history.py (Call, AuditEvent), keys.py (ApiKey), saved.py (SavedRequest), runs.py (Run),
probes.py (Probe, ProbeHour). The app label and table names are those of the app, services."""

from services.models.history import AuditEvent, Call
from services.models.keys import ApiKey
from services.models.probes import Probe, ProbeHour
from services.models.registry import Service, host_policy
from services.models.runs import Run
from services.models.saved import SavedRequest
from services.models.teams import Membership, Profile, Role, Team

__all__ = ["ApiKey", "AuditEvent", "Call", "Membership", "Probe", "ProbeHour", "Profile", "Role",
           "Run", "SavedRequest", "Service", "Team", "host_policy"]
