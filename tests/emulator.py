"""The local EAS emulator as pytest fixtures: one server on a free port for the whole session."""

from dataclasses import dataclass

import pytest

import emulator as eas_emulator

# Besides the demo set: a token shaped like a real EAS one (base64, "=" padding), which must
# survive every way of sending it.
TEST_SERVICES = {
    "eas-style": {"token": "ZGVtby1lYXMtc3R5bGUtdG9rZW4tMDAwMDAwMDE5OTk5OQ==",
                  "kind": "processor", "model": "eas-style"},
}


@dataclass
class RunningEmulator:
    url: str
    port: int
    app: eas_emulator.Emulator

    def base(self, name):
        """The service's endpoint, a base address as EAS gives it."""
        return f"{self.url}/api/predict/{name}"

    def token(self, name):
        return self.app.services[name]["token"]

    def service(self, team, emulated, **fields):
        """A portal service of team that calls this emulator's service `emulated`, with its
        token; an echo service's default path is its /echo route."""
        from tests.conftest import make_service

        kind = self.app.services[emulated]["kind"]
        values = {"slug": emulated, "name": emulated.replace("-", " ").title(), "kind": kind,
                  "public_endpoint": self.base(emulated), "vpc_endpoint": "",
                  "token": self.token(emulated),
                  "default_path": "/v1/chat/completions" if kind == "llm" else "/echo"}
        return make_service(team, **{**values, **fields})


@pytest.fixture(scope="session")
def emulator():
    server, thread = eas_emulator.start_in_thread(
        services={**eas_emulator.DEMO_SERVICES, **TEST_SERVICES})
    port = server.effective_port
    yield RunningEmulator(url=f"http://127.0.0.1:{port}", port=port, app=server.application)
    eas_emulator.stop(server, thread)


@pytest.fixture
def emulator_received(emulator):
    """What the emulator receives during this test only, newest last."""
    emulator.app.clear()
    return emulator.app.received
