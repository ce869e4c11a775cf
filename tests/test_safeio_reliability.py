"""safeio's lock, temporary names, stale cleanup, in-place outputs and path checks."""
import os
import stat
import subprocess
import sys
import threading

import pytest

from safeio.atomic import atomic_path, write_bytes, writes_in_place
from safeio.lock import Busy, exclusive, is_locked
from safeio.paths import input_problem, output_problem
from safeio.temp import remove_stale, temp_dir
from training.rundir import RunDirBusy, locked_run_dir


def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_held_lock_refuses_a_second_holder_and_ends_with_the_block(tmp_path):
    with exclusive(tmp_path):
        assert is_locked(tmp_path)
        with pytest.raises(Busy):
            with exclusive(tmp_path):
                pass
    assert not is_locked(tmp_path)
    assert os.listdir(tmp_path) == []           # locking a folder adds nothing to it


def test_a_run_dir_lock_made_for_nothing_leaves_nothing(tmp_path):
    run = tmp_path / "run"
    with locked_run_dir(str(run), create=True) as created:
        assert created and run.is_dir()
        with pytest.raises(RunDirBusy, match="another process is training in"):
            with locked_run_dir(str(run)):
                pass
    assert not run.exists()                     # made here, still empty: removed


def test_temp_names_carry_the_tag_and_pid(tmp_path):
    with atomic_path(tmp_path / "a.gif") as tmp:
        assert tmp.name.startswith(f".a.gif.numpy_dl-{os.getpid()}-") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"x")
    with temp_dir("npm") as d:
        assert d.name.startswith(f"numpy_dl-npm-{os.getpid()}-") and d.is_dir()
    assert not d.exists()


def test_stale_temps_go_live_and_foreign_ones_stay(tmp_path):
    names = {"stale": f".a.gif.numpy_dl-{dead_pid()}-x.tmp",
             "live": f".a.gif.numpy_dl-{os.getppid()}-y.tmp",
             "other target": f".b.gif.numpy_dl-{dead_pid()}-z.tmp",
             "foreign": ".a.gif.abc.tmp"}
    for n in names.values():
        (tmp_path / n).write_bytes(b"")
    assert [p.name for p in remove_stale(tmp_path, "a.gif")] == [names["stale"]]
    assert sorted(os.listdir(tmp_path)) == sorted(v for k, v in names.items() if k != "stale")


def test_a_fifo_is_written_in_place_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert writes_in_place(fifo)
    write_bytes(fifo, b"GIF89a...")
    reader.join(timeout=10)
    assert got == [b"GIF89a..."] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def test_a_symlink_keeps_pointing_at_the_file_it_names(tmp_path):
    (tmp_path / "real.gif").write_bytes(b"old")
    (tmp_path / "link.gif").symlink_to("real.gif")
    write_bytes(tmp_path / "link.gif", b"new")
    assert (tmp_path / "link.gif").is_symlink() and (tmp_path / "real.gif").read_bytes() == b"new"


def test_path_problems_say_what_the_path_is(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    assert input_problem(tmp_path) == "is a directory"
    assert input_problem(tmp_path / "fifo") == "is a FIFO"
    assert input_problem(tmp_path / "none") == "no such file"
    assert input_problem("/dev/zero") == "is a character device"
    assert output_problem("/dev/null") is None
    assert "ends in .mp4, but the output is a GIF" in output_problem(tmp_path / "a.mp4")
    assert output_problem(tmp_path / "a") is None and output_problem(tmp_path / "a.GIF") is None
    assert "is a folder" in output_problem(tmp_path)
    assert "does not exist" in output_problem(tmp_path / "no" / "a.gif")
