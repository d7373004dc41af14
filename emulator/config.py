"""The services the emulator serves: checking them, reading a config file, and the demo set
(demo.json, which is also what seed_demo registers in the portal). See docs/emulator.md."""

import json
import math
import re
from pathlib import Path

KINDS = ("llm", "model_gallery", "processor", "custom")
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DEMO_CONFIG = Path(__file__).with_name("demo.json")


class ConfigError(ValueError):
    pass


def check_pace(value, source="tokens_per_s"):
    """A pace in tokens per second (a number or its text), 0 or more; 0 is as fast as
    possible. ConfigError names source when it is not one."""
    try:
        pace = float(value)
    except (TypeError, ValueError):
        pace = -1.0
    if isinstance(value, bool) or not 0 <= pace < math.inf:
        raise ConfigError(f"{source}: expected a number of tokens per second, 0 or more, "
                          f"not {value!r}.")
    return pace


def check_services(services, source="services"):
    """The services as {name: {"token", "kind", "model", "reasoning"}}; ConfigError names what
    is wrong."""
    if not isinstance(services, dict) or not services:
        raise ConfigError(f"{source}: expected an object of services by name, with at least one.")
    checked = {}
    for name, entry in services.items():
        where = f"{source}.{name}"
        if not SERVICE_NAME.fullmatch(name):
            raise ConfigError(f"{where}: a service name is letters, digits, '-', '_' or '.'.")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected an object with a token.")
        unknown = set(entry) - {"token", "kind", "model", "reasoning"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
        token, kind = entry.get("token"), entry.get("kind", "custom")
        model = entry.get("model", name)
        if not isinstance(token, str) or not token.strip() or not token.isascii():
            raise ConfigError(f"{where}.token: expected a non-empty ASCII string.")
        if kind not in KINDS:
            raise ConfigError(f"{where}.kind: expected one of {', '.join(KINDS)}.")
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{where}.model: expected a non-empty string.")
        reasoning = entry.get("reasoning", False)
        if not isinstance(reasoning, bool):
            raise ConfigError(f"{where}.reasoning: expected true or false.")
        checked[name] = {"token": token.strip(), "kind": kind, "model": model,
                         "reasoning": reasoning}
    return checked


def load_config(path):
    """Services from a JSON file {"services": {"<name>": {"token", "kind"?, "model"?,
    "reasoning"?}}}."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}).") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}).") from None
    if not isinstance(data, dict) or "services" not in data:
        raise ConfigError(f'{path}: expected {{"services": {{"<name>": {{"token": ...}}}}}}.')
    return check_services(data["services"], source=f"{path}: services")


# Local demo values, not secrets: seed_demo reads the same file and gives the portal's demo
# services the same tokens.
DEMO_SERVICES = load_config(DEMO_CONFIG)
