"""Which of a user's services a URL calls: the one whose public or VPC endpoint the URL starts
with, at a path boundary, compared as the portal compares addresses (scheme and host in
lower case, a default port left out, the path percent-encoded as the portal sends it). The
path is what follows the endpoint, query included. Pure: no Django."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from services.net import join
from services.net.endpoints import parse_endpoint
from services.net.errors import EndpointError


@dataclass(frozen=True)
class Candidate:
    slug: str
    kind: str  # "public" or "vpc"
    endpoint: str  # the service's endpoint of that kind, as stored
    default: bool  # the service's default endpoint


@dataclass(frozen=True)
class Found:
    slug: str | None
    kind: str | None
    path: str  # after the endpoint; with no service, the URL's path and query
    also: tuple[str, ...] = ()  # other services the URL fits as well


def split(url: str) -> tuple[tuple[str, str, int | None] | None, str]:
    """((scheme, host, port), path and query as the portal sends them); None for an origin
    no endpoint could have."""
    scheme, _slashes, rest = url.partition("://")
    cut = re.search(r"[/?]", rest)
    authority, tail = (rest[:cut.start()], rest[cut.start():]) if cut else (rest, "")
    tail = join.encode(tail)
    try:
        origin = parse_endpoint(f"{scheme}://{authority}")
    except EndpointError:
        return None, tail
    return (origin.scheme, origin.host, origin.port), tail


def find(url: str, candidates: Iterable[Candidate]) -> Found:
    origin, tail = split(url)
    fits = []
    for candidate in candidates:
        try:
            endpoint = parse_endpoint(candidate.endpoint)
        except EndpointError:
            continue
        if origin != (endpoint.scheme, endpoint.host, endpoint.port):
            continue
        base = endpoint.path
        if tail == base or tail.startswith((base + "/", base + "?")):
            # The longest endpoint first, then a service's default endpoint, then by slug.
            fits.append((-len(base), not candidate.default, candidate.slug, candidate.kind,
                         tail[len(base):]))
    if not fits:
        return Found(None, None, tail if tail.startswith("/") else "/" + tail)
    fits.sort()
    best = fits[0]
    also = sorted({fit[2] for fit in fits if fit[0] == best[0] and fit[2] != best[2]})
    return Found(best[2], best[3], best[4], tuple(also))
