"""Delivers the outbox: lane heads claimed from the database, sent through the Slack gateway, marked done.

A failure that may heal (rate limit, 5xx, timeout, connection) is retried with exponential backoff; one that will
not (`channel_not_found`, `not_in_channel`, `is_archived`, `invalid_auth`…) fails for good at once: it is logged,
counted, and said in the incident's channel when that is possible. A restart delivers what was pending; several
replicas deliver each item once (the claim). Stopping waits for the items in hand.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import timedelta

from sqlalchemy.exc import DBAPIError

from bot.deps import Deps
from bot.messages import fix_for
from bot.observability.logs import Event, incident_event
from bot.services.effects import Attempt, Executors, NotYet, incident_of_lane
from bot.slack.gateway import SlackCallFailed, will_heal
from bot.slack.pacing import Paced
from storage import claims, outbox, repositories

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)  # renewed every quarter while held: a dead replica's items are free within it
BATCH = 16  # lanes in hand at most
FOLLOWERS = 2  # items behind each lane head claimed with it: short runs, so a lane's turn with its worker is short
SAFETY_POLL_SECONDS = 10.0  # the longest it sleeps without looking (items of another process, dead replicas' claims)
MAX_ATTEMPTS = 15  # with backoff capped at 5 minutes: about an hour of trying


def backoff(attempts: int, first: float = 1.0) -> timedelta:
    """How long to wait before the next try of an item that failed ``attempts`` times: ``first`` seconds, doubled
    each time, at most 5 minutes."""
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), 300))


class Delivery:
    def __init__(self, deps: Deps, executors: Executors, *, workers: int = 8,
                 safety_poll: float | None = SAFETY_POLL_SECONDS) -> None:
        self.deps = deps
        self.safety_poll = safety_poll
        self._done: list[int] = []  # delivered, to be marked so in the next claim's transaction (under _held_lock)
        self._retries: list[float] = []  # monotonic times of the retries this process set (a heap)
        self.executors = executors
        self.owner = claims.new_owner()
        self.failed_for_good = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="firebell-deliver")
        self._running: set[Future[None]] = set()  # lanes being delivered, one worker each (under _held_lock)
        self._thread: threading.Thread | None = None
        self._held: set[int] = set()  # items in hand, whose claims the heartbeat keeps alive
        self._held_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None

    def start(self) -> Delivery:
        self._thread = threading.Thread(target=self._loop, name="firebell-delivery", daemon=True)
        self._thread.start()
        self._heartbeat = threading.Thread(target=self._renew_claims, name="firebell-delivery-heartbeat", daemon=True)
        self._heartbeat.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the items in hand; what is still queued stays in the database for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self._pool.shutdown(wait=True)

    def _renew_claims(self) -> None:
        """While items are in hand, renew their claims well before the lease runs out, so that no other replica
        takes over an item still being worked on (and sends it a second time)."""
        while not self._stop.wait(LEASE.total_seconds() / 4):
            with self._held_lock:
                held = sorted(self._held)
            if not held:
                continue
            try:
                with self.deps.db.transaction() as session:
                    outbox.renew(session, held, outbox.now(), self.owner)
            except Exception:  # the database may be away: the next beat tries again
                log.exception("could not renew the outbox claims")

    def _loop(self) -> None:
        """Deliver while there is work; then sleep until woken (a commit here queued items), until the earliest retry
        this process set, or at most a safety poll."""
        try:
            with self.deps.db.read() as session:  # what an earlier run left to retry later
                first = outbox.next_attempt(session, outbox.now(), lease=LEASE)
            if first is not None:
                self._note_retry((first - outbox.now()).total_seconds())
        except Exception:  # the database may be away: the safety poll looks again
            log.exception("could not read the outbox at start")
        while not self._stop.is_set():
            self._wake.clear()  # before the claim: a wake during it (new work, a lane done) is not lost
            try:
                # not a claim as each lane's run ends (under load, several claims per declare): up to BATCH lanes in
                # hand (those beyond the workers queue for one), claimed together once half of them are done
                in_hand = self._in_flight()
                lanes = self._claim(limit=BATCH - in_hand) if in_hand <= BATCH // 2 else []
            except Exception:  # the database may be away; try again shortly
                log.exception("outbox delivery failed; retrying")
                self._wake.wait(1.0)
                continue
            for run in lanes:
                self._start(run)
            if lanes:
                continue  # more may be due, and workers free for them
            pause = self._until_next_retry()
            if pause is None or pause > 0:
                self._wake.wait(pause)
        self._wait_running()  # the lanes in hand are finished (stop) before what they delivered is marked
        self._mark_done()

    def _in_flight(self) -> int:
        with self._held_lock:
            return len(self._running)

    def _wait_running(self) -> None:
        with self._held_lock:
            running = list(self._running)
        wait(running)

    def _start(self, run: list[outbox.Claimed]) -> None:
        """Deliver one lane's run on a worker; when it is done, the loop is woken to mark it and, once half the lanes
        in hand are done, claim again (no lane waits for another's run to end)."""
        future = self._pool.submit(self._deliver_run, run)
        with self._held_lock:
            self._running.add(future)
        future.add_done_callback(self._finished)

    def _deliver_run(self, run: list[outbox.Claimed]) -> None:
        delivered: list[int] = []
        try:
            delivered = self._deliver_lane(run)
        finally:
            with self._held_lock:
                self._held.difference_update(row.id for row in run)
                self._done.extend(delivered)

    def _finished(self, future: Future[None]) -> None:
        with self._held_lock:
            self._running.discard(future)
        if (error := future.exception()) is not None:  # its items' claims run out: delivered again then
            log.error("outbox delivery of a lane failed", exc_info=error)
        self._wake.set()

    def _mark_done(self) -> None:
        """Mark done what was delivered last (at stop: no next claim will)."""
        for _ in range(3):
            done = self._take_done()
            if not done:
                return
            try:
                with self.deps.db.transaction() as session:
                    outbox.delivered(session, done, outbox.now(), self.owner)
            except DBAPIError:  # not marked: sent again after the lease, after a look whether it got through
                log.exception("could not mark %s delivered outbox items", len(done))
                self._give_done_back(done)

    def _take_done(self) -> list[int]:
        with self._held_lock:
            done, self._done = self._done, []
        return done

    def _give_done_back(self, done: list[int]) -> None:
        with self._held_lock:
            self._done = done + self._done

    def _note_retry(self, seconds: float) -> None:
        with self._held_lock:
            heapq.heappush(self._retries, time.monotonic() + max(seconds, 0.0))

    def polled_by_scheduler(self) -> None:
        """The scheduler's safety poll looks at the outbox too (and wakes us): no poll of our own."""
        self.safety_poll = None

    def _until_next_retry(self) -> float | None:
        """Seconds to sleep: 0 when a retry this process set is due, else until the next one, or a safety poll (None:
        until woken)."""
        with self._held_lock:
            now, due = time.monotonic(), False
            while self._retries and self._retries[0] <= now:
                heapq.heappop(self._retries)
                due = True
            if due:
                return 0.0
            if not self._retries:
                return self.safety_poll
            left = self._retries[0] - now
            return left if self.safety_poll is None else min(self.safety_poll, left)

    def run_once(self) -> int:
        """Claim what is due and deliver it, lanes in parallel, before returning the number of items claimed (a
        bench's or a test's step; the running delivery claims again as lanes are done instead)."""
        lanes = self._claim(limit=self._workers)
        for run in lanes:
            self._start(run)
        self._wait_running()
        return sum(len(run) for run in lanes)

    def _claim(self, *, limit: int) -> list[list[outbox.Claimed]]:
        """Claim up to ``limit`` lane heads that are due, each with the items queued behind it (a new incident's
        topic, card, pin and announcement go in fewer claims): the lanes' runs, each to be delivered in order. The
        items delivered since the last claim are marked done in its transaction (one write for both: SQLite has a
        single writer to share with everyone else)."""
        done = self._take_done()
        try:
            with self.deps.db.transaction() as session:
                if done:
                    outbox.delivered(session, done, outbox.now(), self.owner)
                now = outbox.now()
                heads = outbox.claim(session, now, self.owner, lease=LEASE, limit=limit)
                claimed = heads + outbox.claim_followers(session, now, self.owner, heads, lease=LEASE,
                                                         per_lane=FOLLOWERS)
        except BaseException:
            self._give_done_back(done)
            raise
        lanes: dict[str, list[outbox.Claimed]] = {}
        for row in sorted(claimed, key=lambda row: row.id):
            lanes.setdefault(row.lane, []).append(row)
        with self._held_lock:
            self._held.update(row.id for row in claimed)
        return list(lanes.values())

    def _deliver_lane(self, items: list[outbox.Claimed]) -> list[int]:
        """Deliver one lane's items in order; at the first that is not delivered (it failed, waits for Slack's limit,
        or we are stopping) the rest are given back untried. Returns the ids delivered."""
        delivered: list[int] = []
        for place, item in enumerate(items):
            if place and self._stop.is_set():  # stopping: what was not begun stays queued for the next start
                self._release([later.id for later in items[place:]])
                break
            # an earlier try may have reached Slack: its answer was lost, or its process stopped midway
            attempt = Attempt(item.id, item.created_at, unsure=item.attempts > 1 or item.last_error is not None)
            if not self._deliver(item.id, item.kind, item.payload, item.attempts, item.lane, attempt):
                if rest := [later.id for later in items[place + 1:]]:
                    self._release(rest)
                break
            delivered.append(item.id)
        return delivered

    def _release(self, item_ids: list[int]) -> None:
        try:
            with self.deps.db.transaction() as session:
                outbox.release(session, item_ids, self.owner)
        except DBAPIError:  # not given back: free again when the lease runs out
            log.exception("could not give back %s outbox items", len(item_ids))

    def _deliver(self, item_id: int, kind: str, payload: str, attempts: int, lane: str,
                 attempt: Attempt) -> bool:
        try:
            with self.deps.slack.deferring():  # its first call's turn far away: put back, deliver other lanes meanwhile
                self.executors.run(self.deps, kind, json.loads(payload), attempt)
        except Paced as exc:  # nothing reached Slack: not a failed try, the same item again in its turn
            self._put_back(item_id, kind, exc.wait, f"Slack's limit on {exc.method}")
            return False
        except NotYet as exc:  # the executor did nothing yet
            self._put_back(item_id, kind, exc.wait, exc.why)
            return False
        except SlackCallFailed as exc:
            self._failed(item_id, kind, lane, attempts, exc.error, payload)
            return False
        except DBAPIError as exc:  # the database went away meanwhile: try again later
            log.warning("outbox item %s (%s): database unavailable (%s)", item_id, kind, type(exc.orig).__name__)
            self._failed(item_id, kind, lane, attempts, "database unavailable", payload, heals=True)
            return False
        except Exception as exc:  # a bug: logged with its traceback, and not tried again and again
            log.exception("outbox item %s (%s) raised", item_id, kind)
            self._failed(item_id, kind, lane, attempts, f"{type(exc).__name__}", payload)
            return False
        return True

    def _put_back(self, item_id: int, kind: str, wait: float, why: str) -> None:
        log.debug("outbox item %s (%s) waits %.2f s: %s", item_id, kind, wait, why)
        with self.deps.db.transaction() as session:
            outbox.put_back(session, item_id, outbox.now() + timedelta(seconds=wait), self.owner)
        self._note_retry(wait)

    def _failed(self, item_id: int, kind: str, lane: str, attempts: int, error: str, payload: str, *,
                heals: bool | None = None) -> None:
        now = outbox.now()
        if (will_heal(error) if heals is None else heals) and attempts < MAX_ATTEMPTS:
            wait = backoff(attempts, self.deps.slack.retry_pause)
            log.warning("outbox item %s (%s) failed (%s); retry %s in %s", item_id, kind, error, attempts, wait)
            with self.deps.db.transaction() as session:
                outbox.retry_later(session, item_id, now + wait, error, self.owner)
            self._note_retry(wait.total_seconds())
            return
        with self.deps.db.transaction() as session:
            if not outbox.failed(session, item_id, now, error, self.owner):
                return  # its claim ran out meanwhile: another replica has it now
        self.failed_for_good += 1
        self._log_failure(item_id, kind, lane, error)
        try:
            self.executors.gave_up(self.deps, lane, kind, json.loads(payload), error)
        except Exception:  # its last word is best effort: the failure is already recorded and logged
            log.exception("outbox item %s (%s): could not say that it failed", item_id, kind)

    def _log_failure(self, item_id: int, kind: str, lane: str, error: str) -> None:
        """One ERROR line, naming the incident (INC-7) and team when the item was an incident's."""
        what = f"outbox item {item_id} ({self.executors.describe(kind)}): {error}. {fix_for(error)}"
        incident_id = incident_of_lane(lane)
        try:
            incident = None
            if incident_id is not None:
                with self.deps.db.read() as session:
                    incident = repositories.find_by_id(session, incident_id)
                    ref, team = (incident.ref, incident.team_id) if incident is not None else ("", "")
        except DBAPIError:
            incident = None
        if incident is None:
            log.error("%s failed for good", what)
        else:
            incident_event(Event.DELIVERY_FAILED, ref, team, what, level=logging.ERROR)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until nothing is left to deliver (tests, the demo, shutdown)."""
        done = threading.Event()
        end = time.monotonic() + timeout  # real time: the wait must end even when the clock is a test's
        while time.monotonic() < end:
            with self.deps.db.read() as session:
                if outbox.undelivered(session) == 0:
                    return True
            self._wake.set()
            done.wait(0.02)
        return False
