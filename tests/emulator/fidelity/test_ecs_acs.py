"""ACS's stand-in: a long poll that says which clusters changed, or that everything may have."""
from __future__ import annotations

import importlib
import threading
import time


def _fresh():
    from mylearning.emulator.fidelity.ecs import acs
    return importlib.reload(acs)


def test_a_poll_names_the_clusters_that_changed_since_its_version():
    acs = _fresh()
    first = acs.wait_for_change(-1, 0)
    assert "clusters" not in first  # a first poll looks at everything
    acs.changed("us-east-1", "a")
    acs.changed("eu-west-1", "b")
    news = acs.wait_for_change(first["version"], 0)
    assert news["clusters"] == [("eu-west-1", "b"), ("us-east-1", "a")]
    assert news["regions"] == ["eu-west-1", "us-east-1"]
    later = acs.wait_for_change(news["version"] - 1, 0)
    assert later["clusters"] == [("eu-west-1", "b")]


def test_a_reset_or_an_unknown_cluster_means_look_at_everything():
    acs = _fresh()
    acs.changed("us-east-1", "a")
    version = acs.version()
    acs.reset()
    assert "clusters" not in acs.wait_for_change(version, 0)
    version = acs.version()
    acs.changed("us-east-1", None)
    assert "clusters" not in acs.wait_for_change(version, 0)


def test_a_held_poll_wakes_on_a_change_and_on_close():
    acs = _fresh()
    since = acs.version()
    got = {}

    def poll():
        t0 = time.monotonic()
        got.update(acs.wait_for_change(since, 20), seconds=time.monotonic() - t0)

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.1)
    acs.changed("us-east-1", "c")
    thread.join(5)
    assert got["version"] > since and got["seconds"] < 5
    acs.close()
    t0 = time.monotonic()
    acs.wait_for_change(acs.version(), 20)  # a closing emulator holds no poll
    assert time.monotonic() - t0 < 1
    _fresh()
