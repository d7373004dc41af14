"""start_emulator: an emulator of its own for a test that needs other settings than the
session's (a default pace, few threads, services of its own), stopped after the test."""

from dataclasses import dataclass

import pytest

import emulator as eas_emulator


@dataclass
class Started:
    """Like the session's RunningEmulator: url, port, app, base(name), token(name)."""

    url: str
    port: int
    app: eas_emulator.Emulator

    def base(self, name):
        return f"{self.url}/api/predict/{name}"

    def token(self, name):
        return self.app.services[name]["token"]


@pytest.fixture
def start_emulator():
    """start_emulator(**settings of emulator.start_in_thread) -> a Started emulator."""
    running = []

    def start(**settings):
        server, thread = eas_emulator.start_in_thread(**settings)
        running.append((server, thread))
        port = server.effective_port
        return Started(url=f"http://127.0.0.1:{port}", port=port, app=server.application)

    yield start
    for server, thread in running:
        eas_emulator.stop(server, thread)
