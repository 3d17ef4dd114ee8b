"""Shanghai time and the day's report windows, shared by the roster sheet and the town overview."""
from datetime import datetime, timezone

from shared.localtime import SHANGHAI, local, open_report_window, todays_report_windows

TIMES = ("14:00", "08:00")  # a town policy's report times, in any order


def at(hour: int, minute: int = 0) -> datetime:
    """A moment on 2022-04-02 in Shanghai time, given in UTC as the read models keep it."""
    return datetime(2022, 4, 2, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


def test_a_naive_moment_is_utc_and_shown_in_shanghai_time():
    assert local(datetime(2022, 4, 2, 4, 27)).strftime("%m-%d %H:%M") == "04-02 12:27"
    assert local(at(23, 30)).date().isoformat() == "2022-04-02"  # 15:30 UTC is still the 2nd in Shanghai


def test_the_days_windows_are_in_order_and_in_shanghai_time():
    assert [w.strftime("%H:%M") for w in todays_report_windows(at(9), TIMES)] == ["08:00", "14:00"]
    assert todays_report_windows(at(0, 30), TIMES)[0] == at(8)  # 16:30 UTC on the 1st is the 2nd here


def test_nobody_is_late_before_the_first_window_and_the_latest_window_counts_after():
    assert open_report_window(at(7, 59), TIMES) is None
    assert open_report_window(at(8), TIMES) == at(8)
    assert open_report_window(at(13, 59), TIMES) == at(8)
    assert open_report_window(at(23, 59), TIMES) == at(14)
