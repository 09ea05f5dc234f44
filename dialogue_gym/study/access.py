"""Who may enter the study app: admin sessions that end, a limit on wrong admin tokens, and a
per-address limit on joining.

Each login gets a fresh random session id (the cookie); the server keeps only its SHA-256 hash
and expiry, so a session ends at its expiry, at logout, or when the server stops. Wrong admin
tokens from one client address are limited: after ``free_failures`` of them, each further try
waits twice as long as the one before (1 s, 2 s, 4 s, ... up to ``max_wait``); a right token
resets the count. The admin token itself must be at least :data:`MIN_ADMIN_TOKEN_CHARS` long.
Joining is limited per client address (:class:`RateLimit`, ``serve --joins-per-hour``).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidInput

MIN_ADMIN_TOKEN_CHARS = 16
"""The shortest admin token ``serve`` accepts."""
SESSION_HOURS = 12.0
"""How long an admin session lasts by default."""


def check_admin_token(token: str) -> None:
    """Refuse an admin token too short to resist guessing."""
    if len(token) < MIN_ADMIN_TOKEN_CHARS:
        raise InvalidInput(
            f"the admin token is {len(token)} characters; use at least {MIN_ADMIN_TOKEN_CHARS} "
            '(e.g. python3 -c "import secrets; print(secrets.token_urlsafe(24))")'
        )


def _digest(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


@dataclass
class _Failures:
    count: int = 0
    blocked_until: float = 0.0


class AdminSessions:
    """Server-side admin sessions with expiry, and the wrong-token back-off per client."""

    def __init__(
        self,
        hours: float = SESSION_HOURS,
        free_failures: int = 5,
        max_wait: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if hours <= 0:
            raise InvalidInput(f"an admin session must last > 0 hours, got {hours}")
        self.seconds = hours * 3600
        self.free_failures, self.max_wait, self.clock = free_failures, max_wait, clock
        self._sessions: dict[str, float] = {}  # sha256(session id) -> expiry
        self._failures: dict[str, _Failures] = {}
        self._pruned = -math.inf
        self._lock = threading.Lock()

    def start(self) -> str:
        """A new session id (the cookie's value), valid for the session length."""
        session = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._sessions = {k: v for k, v in self._sessions.items() if v > now}  # prune
            self._sessions[_digest(session)] = now + self.seconds
        return session

    def valid(self, session: str) -> bool:
        """Whether ``session`` is a live session."""
        if not session:
            return False
        with self._lock:
            expiry = self._sessions.get(_digest(session))
        return expiry is not None and expiry > self.clock()

    def end(self, session: str) -> None:
        """End ``session`` (logout); unknown ids are ignored."""
        with self._lock:
            self._sessions.pop(_digest(session), None)

    def wait(self, client: str) -> float:
        """Seconds ``client`` must wait before its next token is checked (0: go ahead)."""
        with self._lock:
            f = self._failures.get(client)
        return max(0.0, f.blocked_until - self.clock()) if f else 0.0

    def failed(self, client: str) -> None:
        """Count a wrong token from ``client``; past the free ones, block it for a doubling
        wait."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > 10_000 and now > self._pruned + 60:  # at most once a minute
                self._pruned = now  # forget clients no longer blocked
                self._failures = {k: v for k, v in self._failures.items() if v.blocked_until > now}
            f = self._failures.setdefault(client, _Failures())
            f.count += 1
            extra = f.count - self.free_failures
            if extra > 0:
                f.blocked_until = now + min(self.max_wait, 2.0 ** (extra - 1))

    def succeeded(self, client: str) -> None:
        """A right token: ``client``'s count starts again."""
        with self._lock:
            self._failures.pop(client, None)


JOINS_PER_HOUR = 60
"""The default number of participants one address may start per hour (a lab behind one NAT
address fits; a script creating hundreds a second does not)."""


class RateLimit:
    """At most ``n`` events per client in any ``seconds`` window (a sliding log per client)."""

    def __init__(
        self, n: int, seconds: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if n < 1 or seconds <= 0:
            raise InvalidInput(f"a rate limit needs n >= 1 and seconds > 0, got {n}, {seconds}")
        self.n, self.seconds, self.clock = n, seconds, clock
        self._events: dict[str, list[float]] = {}
        self._pruned = -math.inf
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Count an event for ``client`` if it is within the limit and return 0; otherwise
        count nothing and return the seconds until it would be."""
        now = self.clock()
        with self._lock:
            if len(self._events) > 10_000 and now > self._pruned + 60:  # at most once a minute
                self._pruned = now  # forget clients with no recent event
                self._events = {
                    k: v for k, v in self._events.items() if v and v[-1] > now - self.seconds
                }
            recent = [t for t in self._events.get(client, []) if t > now - self.seconds]
            if len(recent) >= self.n:
                self._events[client] = recent
                return recent[0] + self.seconds - now
            recent.append(now)
            self._events[client] = recent
            return 0.0


@dataclass(frozen=True)
class EntryRules:
    """Who may start a visit: at most ``max_participants`` places (``None``: no bound), only
    with a single-use invite (``invite_only``), and at most ``joins_per_hour`` starts per client
    address."""

    max_participants: int | None = None
    invite_only: bool = False
    joins_per_hour: int = JOINS_PER_HOUR

    def __post_init__(self) -> None:
        if self.max_participants is not None and self.max_participants < 1:
            raise InvalidInput(f"--max-participants must be >= 1, got {self.max_participants}")
        if self.joins_per_hour < 1:
            raise InvalidInput(f"--joins-per-hour must be >= 1, got {self.joins_per_hour}")
