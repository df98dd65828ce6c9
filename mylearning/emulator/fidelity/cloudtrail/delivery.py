"""Trails deliver log files: the records each logging trail selects, gzip'd JSON in its bucket.

"CloudTrail typically delivers logs within an average of about 5 minutes of an API call"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html). A lab
cannot wait that long, so here one daemon thread delivers every ``min(MAX_WAIT, clock.wait(300))``
real seconds: 5 s at the default time scale (``MYLEARNING_TIME_SCALE``, `mylearning.facts.clock`),
less at a higher one (1 s at 300), and still 5 s at scale 1, AWS's own pace, where a learner
would otherwise wait five minutes for a log file. That is the deviation, and the only one in
timing; a log file's name and folder carry the real time of its delivery.

What a delivery writes, per trail that logs (StartLogging .. StopLogging) and per Region of its
events (every Region for a multi-Region trail, the trail's own otherwise):

* the events recorded since the trail's last delivery that its selectors select
  (`mylearning.facts.cloudtrail_selectors`: basic ReadWriteType / IncludeManagementEvents /
  DataResources, or advanced field selectors), management events from the Event history and data
  events from the data-event buffer (`history`), as CloudTrail records
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html):
  eventCategory, managementEvent, readOnly, and for S3 objects requestParameters bucketName/key
  and resources (the AWS::S3::Object and its AWS::S3::Bucket);
* one object ``{"Records": [...]}``, gzip'd, at
  ``[S3KeyPrefix/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz``
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html),
  written straight into moto's S3 state: CloudTrail's own writes are no API call of the
  customer's, so they are not recorded (nor logged again: no recursion). Nothing is written when
  a trail selected nothing, as CloudTrail writes no empty files.

A trail logs the events recorded after its StartLogging; the events before its StopLogging are
still delivered (they were logged), then it delivers nothing until it starts again.
GetTrailStatus tells the truth about it (moto claims a delivery at every GetTrailStatus):
LatestDeliveryTime and LatestDeliveryAttemptTime are those of the last delivery, absent before
the first; LatestDeliveryError is ``NoSuchBucket`` when the bucket is gone
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html).

Not modelled: SNS notifications, log file validation digests, KMS encryption of log files,
CloudWatch Logs delivery, the advanced field ``userIdentity.arn``, and the bucket policy check.

The thread starts with the first StartLogging (an emulator without trails pays nothing) and holds ``core.STATE`` while it reads the trails
and writes their files. A reset of the account clears what is pending and ends the thread; the
next StartLogging starts another.
"""
from __future__ import annotations

import gzip
import json
import logging
import secrets
import string
import threading
import time
from typing import Any

from mylearning.emulator.fidelity.cloudtrail import history
from mylearning.emulator.fidelity.core import STATE, AwsRequest, after, moto_backend, moto_fixes, on_reset
from mylearning.facts import clock
from mylearning.facts import cloudtrail as facts
from mylearning.facts import cloudtrail_records as records
from mylearning.facts import cloudtrail_selectors as selectors

#: AWS seconds between deliveries ("within an average of about 5 minutes").
INTERVAL = 300.0
#: Real seconds between deliveries at most, whatever the time scale.
MAX_WAIT = 5.0
#: Real seconds an entry must have been recorded for before it is delivered, so that a call
#: whose entry is still being appended (entries are kept outside the state lock) is not skipped.
SETTLE = 0.5

_WAKE = threading.Condition()
_generation = 0
_thread: threading.Thread | None = None
#: Trail ARN -> the sequence number after which its next delivery starts.
_CURSORS: dict[str, int] = {}
#: Trail ARN -> the last sequence number it logs and when it was stopped (StopLogging).
_STOPPED: dict[str, tuple[int, float]] = {}
_UNIQUE = string.ascii_letters + string.digits
_log = logging.getLogger("mylearning.emulator")


def interval() -> float:
    """Real seconds between two deliveries."""
    return min(MAX_WAIT, clock.wait(INTERVAL))


# ---------------------------------------------------------------- GetTrailStatus

def _honest_status() -> None:
    from moto.cloudtrail import models
    from moto.core.utils import utcnow

    def start_logging(self: Any) -> None:
        self.is_logging = True
        self.started = utcnow()

    def description(self: Any) -> dict[str, Any]:
        desc: dict[str, Any] = {
            "IsLogging": self.is_logging, "LatestDeliveryAttemptTime": "",
            "LatestNotificationAttemptTime": "", "LatestNotificationAttemptSucceeded": "",
            "LatestDeliveryAttemptSucceeded": "", "TimeLoggingStarted": "", "TimeLoggingStopped": ""}
        attempt = getattr(self, "_ml_attempt", None)
        if attempt is not None:
            desc["LatestDeliveryAttemptTime"] = facts.iso(attempt)
        delivered = getattr(self, "_ml_delivered", None)
        if delivered is not None:
            desc["LatestDeliveryTime"] = int(delivered)
            desc["LatestDeliveryAttemptSucceeded"] = facts.iso(delivered)
        if getattr(self, "_ml_error", None):
            desc["LatestDeliveryError"] = self._ml_error
        if self.started:
            desc["StartLoggingTime"] = int(self.started.replace(tzinfo=_utc()).timestamp())
            desc["TimeLoggingStarted"] = facts.iso(self.started.replace(tzinfo=_utc()))
        if self.stopped:
            desc["StopLoggingTime"] = int(self.stopped.replace(tzinfo=_utc()).timestamp())
            desc["TimeLoggingStopped"] = facts.iso(self.stopped.replace(tzinfo=_utc()))
        return desc

    models.TrailStatus.start_logging = start_logging
    models.TrailStatus.description = description


def _utc() -> Any:
    import datetime
    return datetime.timezone.utc


moto_fixes("cloudtrail", _honest_status)


# ---------------------------------------------------------------- logging on and off

def _trail(req: AwsRequest) -> Any | None:
    name = req.params.get("Name") or req.params.get("TrailName")
    if not isinstance(name, str):
        return None
    try:
        return moto_backend("cloudtrail", req.region).get_trail(name)
    except Exception:  # noqa: BLE001 - moto answered; a trail it cannot find has nothing to log
        return None


@after("cloudtrail", "StartLogging")
def _started(req: AwsRequest, status: int, body: bytes) -> None:
    trail = _trail(req)
    if trail is None:
        return
    if trail.arn in _STOPPED:  # stopped and started again before its last delivery: deliver it now
        _deliver(trail, _CURSORS.get(trail.arn, 0), _STOPPED.pop(trail.arn)[0], time.time() + SETTLE)
    if trail.arn not in _CURSORS:
        _CURSORS[trail.arn] = history.mark()
    _refresh_wanted()
    ensure_started()


@after("cloudtrail", "StopLogging")
def _stopped(req: AwsRequest, status: int, body: bytes) -> None:
    trail = _trail(req)
    if trail is not None and trail.arn in _CURSORS:
        _STOPPED[trail.arn] = (history.mark(), time.time())


@after("cloudtrail", "PutEventSelectors", "DeleteTrail")
def _selectors_changed(req: AwsRequest, status: int, body: bytes) -> None:
    _refresh_wanted()


def _all_trails() -> dict[str, Any]:
    from moto.cloudtrail.models import cloudtrail_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    return {trail.arn: trail for backend in list(dict.values(cloudtrail_backends[DEFAULT_ACCOUNT_ID]))
            for trail in list(backend.trails.values())}


def _refresh_wanted() -> None:
    """Record data events only while a logging trail may log them (see `history`)."""
    trails = _all_trails()
    history.DATA_WANTED[0] = any(
        arn in trails and selectors.logs_data_events(trails[arn].event_selectors,
                                                     trails[arn].advanced_event_selectors)
        for arn in _CURSORS)


def ensure_started() -> None:
    global _thread
    with _WAKE:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, args=(_generation,), name="cloudtrail-delivery",
                                       daemon=True)
            _thread.start()


@on_reset
def _reset() -> None:
    global _generation, _thread
    with _WAKE:
        _generation += 1
        _thread = None
        _CURSORS.clear()
        _STOPPED.clear()
        history.DATA_WANTED[0] = False
        _WAKE.notify_all()


# ---------------------------------------------------------------- the thread

def _run(generation: int) -> None:
    while True:
        with _WAKE:
            _WAKE.wait(interval())
            if generation != _generation:
                return
        try:
            tick(generation)
        except Exception:  # a broken trail must not stop the others' delivery
            _log.exception("CloudTrail delivery failed")


def tick(generation: int | None = None) -> None:
    """One delivery of every logging trail. (The thread idles on when none logs: a wake every
    few seconds costs nothing, and a thread that ended could race a StartLogging.)

    It picks each trail's records under the state lock, builds and compresses them outside it
    (the records of thousands of S3 calls take a while, and requests must not wait for that),
    and writes the files under it again."""
    now = time.time()
    jobs = []
    with STATE:
        if generation is not None and generation != _generation:
            return
        trails = _all_trails()
        for arn in list(_CURSORS):
            trail = trails.get(arn)
            upto, stopped = _STOPPED.get(arn, (None, now))
            if trail is None or (upto is None and not trail.status.is_logging):
                _CURSORS.pop(arn, None)
                _STOPPED.pop(arn, None)
                continue
            _CURSORS[arn], chosen = _select(trail, _CURSORS[arn], upto, now)
            if upto is not None and stopped <= now - SETTLE:  # all it logged has settled: done
                _CURSORS.pop(arn, None)
                _STOPPED.pop(arn, None)
            if chosen:
                _identities(trail, chosen)
                jobs.append((trail, chosen))
        _refresh_wanted()
    files = [(trail, _build(trail, chosen)) for trail, chosen in jobs]
    if files:
        with STATE:
            if generation is not None and generation != _generation:
                return
            for trail, bodies in files:
                _write(trail, bodies, now)


def _event(entry: history.Entry, data: bool, account: str) -> selectors.Event:
    record = entry.record
    if record is not None:
        resource = None
        for item in record.get("resources") or ():
            if item.get("ARN") and item.get("type") != "AWS::S3::Bucket":
                resource = (str(item.get("type", "")), str(item["ARN"]))
                break
        return selectors.Event("Data" if data else "Management", str(record.get("eventSource", "")),
                               str(record.get("eventName", "")), bool(record.get("readOnly")), resource,
                               str(record.get("eventType", "AwsApiCall")))
    source = facts.event_source(entry.service)
    params = entry.params if isinstance(entry.params, dict) else {}
    resource = facts.data_resource(source, params, "aws", entry.region, account) if data else None
    return selectors.Event("Data" if data else "Management", source, entry.operation,
                           facts.is_read_only(entry.operation), resource)


def _deliver(trail: Any, cursor: int, upto: int | None, now: float) -> int:
    """Write the trail's new records at once (the caller holds the state lock); return its new
    cursor."""
    newest, chosen = _select(trail, cursor, upto, now)
    if chosen:
        _write(trail, _build(trail, chosen), now)
    return newest


def _select(trail: Any, cursor: int, upto: int | None, now: float) -> tuple[int, dict[str, list]]:
    """The trail's new entries that its selectors select, per Region, and its new cursor."""
    account = trail.account_id
    basic, advanced = trail.event_selectors or [], trail.advanced_event_selectors or []
    wants_data = selectors.logs_data_events(basic, advanced)
    regions = history.regions() if trail.is_multi_region else [trail.region_name]
    newest = cursor
    chosen: dict[str, list[history.Entry]] = {}
    for region in regions:
        for data in ((False, True) if wants_data else (False,)):
            for entry in reversed(history.entries(region, data)):
                if entry.seq <= cursor:
                    break
                if entry.when > now - SETTLE or (upto is not None and entry.seq > upto):
                    continue
                newest = max(newest, entry.seq)
                if selectors.selects(basic, advanced, _event(entry, data, account)):
                    chosen.setdefault(region, []).append(entry)
    return newest, chosen


def _identities(trail: Any, chosen: dict[str, list]) -> None:
    """Resolve the callers while the state lock is held (they are cached), so that building the
    records outside it reads no moto state."""
    from mylearning.emulator.fidelity.cloudtrail import identity

    for key in {e.access_key for entries in chosen.values() for e in entries if e.record is None}:
        identity.of(key, trail.account_id)


def _build(trail: Any, chosen: dict[str, list]) -> dict[str, bytes]:
    """Region -> the gzip'd ``{"Records": [...]}`` of its entries, oldest first."""
    bodies = {}
    for region, entries in sorted(chosen.items()):
        entries.sort(key=lambda e: (e.when, e.seq))
        bodies[region] = gzip.compress(json.dumps(
            {"Records": [history.entry_record(e, trail.account_id) for e in entries]}).encode())
    return bodies


def _write(trail: Any, bodies: dict[str, bytes], now: float) -> None:
    """Put one log file per Region in the trail's bucket, straight into moto's S3 state."""
    trail.status._ml_attempt = now
    s3 = moto_backend("s3", "aws")
    if trail.bucket_name not in s3.buckets:
        trail.status._ml_error = "NoSuchBucket"
        return
    for region, body in bodies.items():
        unique = "".join(secrets.choice(_UNIQUE) for _ in range(16))
        key = records.log_key(trail.s3_key_prefix, trail.account_id, region, now, unique)
        s3.put_object(trail.bucket_name, key, body)
    trail.status._ml_delivered = now
    trail.status._ml_error = None
