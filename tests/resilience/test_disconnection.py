"""The window in which failures for lack of a connection cost no retry token (explicit clock)."""

from __future__ import annotations

from protoreq.retry import RECONNECT_WINDOW, Disconnection, lost_connection


def test_a_young_disconnection_is_free_and_an_old_one_is_not() -> None:
    gone = Disconnection()
    assert gone.failed_unconnected(100.0)
    assert gone.failed_unconnected(100.0 + RECONNECT_WINDOW / 2)
    assert gone.wait_limit(100.0 + RECONNECT_WINDOW / 2) == RECONNECT_WINDOW / 2
    # Failures kept coming: the server is down, not restarting. Tokens again, no waiting.
    assert not gone.failed_unconnected(100.0 + RECONNECT_WINDOW + 0.1)
    assert gone.wait_limit(100.0 + RECONNECT_WINDOW + 0.1) == 0.0


def test_a_reconnect_or_a_quiet_window_starts_a_new_disconnection() -> None:
    gone = Disconnection()
    assert gone.failed_unconnected(0.0)
    gone.reconnected()
    assert gone.wait_limit(50.0) == RECONNECT_WINDOW
    assert gone.failed_unconnected(50.0)
    assert gone.failed_unconnected(50.0 + RECONNECT_WINDOW + 1)  # none for a window: new one


def test_transport_failures_are_told_from_a_server_answer() -> None:
    assert lost_connection("Stream removed (recvmsg:Connection reset by peer (104))")
    assert lost_connection("failed to connect to all addresses; last error: UNKNOWN: ...")
    assert lost_connection("Socket closed")
    assert not lost_connection("injected failure")
    assert not lost_connection("the service is overloaded, try later")
