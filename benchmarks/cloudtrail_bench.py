"""What recording every call for CloudTrail's Event history costs a request.

Runs one emulator in this process (no data plane), then times N DescribeClusters calls
through boto3 with the recorder on and off (the fidelity layer's observers removed),
alternating blocks so both see the same machine load, and a LookupEvents page over the
history that built up. Prints figures; asserts nothing.

    python benchmarks/cloudtrail_bench.py [N]
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time


def main(n: int = 2000) -> None:
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
    import boto3

    from mylearning.emulator.fidelity import core
    from mylearning.emulator.server import make_server

    server = make_server(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="x", region_name="us-east-1")
    ecs, trail = session.client("ecs", endpoint_url=url), session.client("cloudtrail", endpoint_url=url)
    ecs.create_cluster(clusterName="bench")
    for _ in range(200):  # warm up
        ecs.describe_clusters(clusters=["bench"])
    observers = list(core._OBSERVERS)
    timings: dict[str, list[float]] = {"on": [], "off": []}
    block = max(1, n // 4)
    for round_ in range(4):
        for mode in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
            core._OBSERVERS[:] = observers if mode == "on" else []
            for _ in range(block // 2):
                t0 = time.perf_counter()
                ecs.describe_clusters(clusters=["bench"])
                timings[mode].append(time.perf_counter() - t0)
    core._OBSERVERS[:] = observers
    on, off = statistics.median(timings["on"]), statistics.median(timings["off"])
    print(f"DescribeClusters x{len(timings['on'])} each: median {off * 1e3:.3f} ms without recording, "
          f"{on * 1e3:.3f} ms with ({(on - off) * 1e6:+.1f} us per call); "
          f"mean {statistics.mean(timings['off']) * 1e3:.3f} / {statistics.mean(timings['on']) * 1e3:.3f} ms")
    t0 = time.perf_counter()
    page = trail.lookup_events(MaxResults=50)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    trail.lookup_events(MaxResults=50, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateCluster"}])
    filtered = time.perf_counter() - t0
    print(f"LookupEvents over {len(timings['on']) + 201} recorded events: a page of {len(page['Events'])} in "
          f"{first * 1e3:.1f} ms; EventName=CreateCluster in {filtered * 1e3:.1f} ms")
    _observer_alone()  # the server's thread ends with the process
    _data_events()


def _observer_alone(calls: int = 100_000) -> None:
    """The recorder's own cost, without the HTTP noise: the observer on one decoded request."""
    from mylearning.emulator.fidelity import core, reset
    from mylearning.emulator.fidelity.cloudtrail import history

    environ = {"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=bench/20261202/us-east-1/ecs/aws4_request, "
                                     "SignedHeaders=host, Signature=0",
               "HTTP_USER_AGENT": "Boto3/1.44 bench", "REMOTE_ADDR": "127.0.0.1"}
    req = core.AwsRequest("ecs", "DescribeClusters", "json", "us-east-1", "POST", "/",
                          {"clusters": ["bench"]}, environ=environ)
    reset()
    t0 = time.perf_counter()
    for _ in range(calls):
        history.recorded(req, 200, [b"{}"])
    took = time.perf_counter() - t0
    print(f"the recorder alone: {took / calls * 1e6:.2f} us per call ({calls} calls; "
          f"ring buffer bound {history.PER_REGION} per Region)")


def _data_events(calls: int = 100_000) -> None:
    """The recorder on an S3 GetObject (a data event: the hottest path) while no trail logs data
    events and while one does, and what one delivery of the data events that built up costs."""
    from mylearning.emulator.fidelity import core, reset
    from mylearning.emulator.fidelity.cloudtrail import delivery, history

    environ = {"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=bench/20261202/us-east-1/s3/aws4_request, "
                                     "SignedHeaders=host, Signature=0",
               "HTTP_USER_AGENT": "Boto3/1.44 bench", "REMOTE_ADDR": "127.0.0.1"}
    req = core.AwsRequest("s3", "GetObject", "rest-xml", "us-east-1", "GET", "/videos/intro.mp4",
                          {"Bucket": "videos", "Key": "intro.mp4"}, environ=environ)
    reset()
    for wanted in (False, True):
        history.DATA_WANTED[0] = wanted
        t0 = time.perf_counter()
        for _ in range(calls):
            history.recorded(req, 200, [b""])
        took = time.perf_counter() - t0
        print(f"the recorder on GetObject, {'a' if wanted else 'no'} trail logging data events: "
              f"{took / calls * 1e6:.2f} us per call")
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.cloudtrail.models import cloudtrail_backends
    from moto.s3.models import s3_backends

    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].create_bucket("bench-logs", "us-east-1")
    trail = cloudtrail_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].create_trail(
        "bench", "bench-logs", "", None, False, False, False, False, None, None, None, [])
    trail.event_selectors = [{"ReadWriteType": "All", "IncludeManagementEvents": False,
                              "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::videos/"]}]}]
    pending = len(history.entries("us-east-1", data=True))
    now = time.time() + delivery.SETTLE
    t0 = time.perf_counter()
    _, chosen = delivery._select(trail, 0, None, now)
    delivery._identities(trail, chosen)
    t1 = time.perf_counter()
    bodies = delivery._build(trail, chosen)
    t2 = time.perf_counter()
    delivery._write(trail, bodies, now)
    t3 = time.perf_counter()
    print(f"one delivery of {pending} GetObject records: selected in {(t1 - t0) * 1e3:.0f} ms and written in "
          f"{(t3 - t2) * 1e3:.0f} ms under the state lock, built and gzip'd in {(t2 - t1) * 1e3:.0f} ms outside it")
    reset()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
