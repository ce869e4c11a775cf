"""scripts/make_gif.py on bad input: one line on stderr, exit code 2 (130 when interrupted),
and no file written or changed."""
import hashlib
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import gif_parser, make_gif

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_gif.py"
MODEL = ROOT / "models" / "lenet5.npz"


def _tree(folder):
    """Name -> SHA-256 of every file under ``folder``, hidden temporary files included."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _fails(argv, capsys, folder, code=2):
    """Run ``make_gif.py ARGV`` (in process); it must end with ``code`` and one stderr line,
    leaving ``folder`` as it was. Returns that line."""
    before = _tree(folder)
    with pytest.raises(SystemExit) as e:
        make_gif(argv)
    assert e.value.code == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert _tree(folder) == before
    return err[0]


# -- options that used to fail with a confusing message -------------------------------------
@pytest.mark.parametrize("argv, says, not_says", [
    (["softmax", "--logits", "1,nan"], "'nan' is not a finite number", "convert"),
    (["softmax", "--logits", "1,inf"], "'inf' is not a finite number", "convert"),
    (["softmax", "--logits", "1"], "1 logit given, expected 2 to 20", "label"),
    (["softmax", "--logits", ",".join(["1"] * 21)], "21 logits given", "label"),
    (["softmax", "--logits", "1,2,3", "--label", "3"], "--label: 3 is not a class of the 3",
     "trace_softmax"),
    (["conv2d", "--kernel-size", "0"], "--kernel-size: '0': expected positive", "obel"),
    (["maxpool", "--stride", "2,0"], "--stride: '2,0': expected positive", "kernel"),
    (["maxpool", "--padding", "-1"], "--padding: '-1': expected values >= 0", "Traceback"),
    (["maxpool", "--fps", "1000"], "--fps: 1000, expected", "frame_ms=0"),
    (["maxpool", "--fps", "0"], "--fps: 0, expected", "frame_ms"),
    (["maxpool", "--frame-ms", "15"], "--frame-ms: 15, expected a multiple of 10", "frame_ms="),
    (["maxpool", "--hold", "1000000"], "--hold: 1000000, expected", "Overflow"),
    (["maxpool", "--scale", "100"], "--scale: 100 draws this 28×28 input map 2800 px", "Memory"),
    (["relu", "--scale", "40"], "--scale: 40", "Memory"),
])
def test_bad_option_is_one_line_naming_it(tmp_path, capsys, argv, says, not_says):
    line = _fails(argv + ["--out", str(tmp_path / "x.gif")], capsys, tmp_path)
    assert line.startswith("make_gif.py ") and "error: argument " in line
    assert says in line and not_says not in line, line


def test_scale_up_to_the_bound_still_renders(tmp_path):
    from recipes import MAX_PANEL_PX
    r = make_gif(["maxpool", "--scale", str(MAX_PANEL_PX // 28), "--max-frames", "3",
                  "--no-gifsicle", "--out", str(tmp_path / "m.gif")])
    assert r["path"] == tmp_path / "m.gif" and (tmp_path / "m.gif").stat().st_size > 0


def test_huge_and_tiny_numbers_use_scientific_notation():
    from viz.draw import fmt_short as _num
    assert _num(1e30) == "1.0e30" and _num(-2e30) == "\u22122.0e30"
    assert _num(3.2e-5) == "3.2e\u22125"
    assert _num(0.0) == "0.00" and _num(0.5) == "0.50" and _num(123.4) == "123.4"
    assert _num(-9999.0) == "\u22129999"


def test_extreme_logits_render(tmp_path):
    r = make_gif(["softmax", "--logits=1e30,-1e30", "--label", "1", "--no-gifsicle",
                  "--out", str(tmp_path / "s.gif")])
    assert r["frames"] > 2 and (tmp_path / "s.gif").stat().st_size > 0


# -- --help ------------------------------------------------------------------------------------
def test_help_shows_each_default_once():
    _, subs = gif_parser()
    for name, p in subs.items():
        text = p.format_help()
        assert "(default: None)" not in text and "(default: False)" not in text, name
        options = text.split("\n  -")
        for opt in options:
            assert opt.count("default:") <= 1, (name, opt)
    conv = subs["conv2d"].format_help()
    assert "(default: 3)" in conv and "at most 40%" in " ".join(conv.split())


# -- --out -------------------------------------------------------------------------------------
def test_out_onto_an_existing_folder(tmp_path, capsys):
    (tmp_path / "old.gif").write_bytes(b"keep me")
    line = _fails(["maxpool", "--out", str(tmp_path)], capsys, tmp_path)
    assert "is a folder" in line


def test_out_where_nothing_can_be_written(tmp_path, capsys):
    # /proc takes no new files, even for root
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc")
    line = _fails(["maxpool", "--max-frames", "3", "--out", "/proc/x.gif"], capsys, tmp_path,
                  code=1)     # usage was right: the job could not be done
    assert "cannot write" in line and "/proc/x.gif" in line


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_out_into_a_read_only_folder(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "old.gif").write_bytes(b"keep me")
    ro.chmod(0o555)
    try:
        line = _fails(["maxpool", "--out", str(ro / "x.gif")], capsys, ro)
    finally:
        ro.chmod(0o755)
    assert "permission denied" in line


def test_write_failure_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    # the folder check passes (as for root in a read-only folder), the write itself fails
    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("recipes.maker.os.access", lambda *a: True)
    monkeypatch.setattr("safeio.atomic.os.replace", refuse)
    line = _fails(["maxpool", "--max-frames", "3", "--no-gifsicle", "--out",
                   str(tmp_path / "x.gif")], capsys, tmp_path, code=1)
    assert "cannot write" in line and "Permission denied" in line


# -- Ctrl-C ------------------------------------------------------------------------------------
def test_interrupt_while_rendering_leaves_nothing(tmp_path, monkeypatch):
    # the message and exit code 130 are make_gif.py's: see the SIGINT test below
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr("recipes.maker.render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        make_gif(["maxpool", "--out", str(tmp_path / "x.gif")])
    assert list(tmp_path.iterdir()) == []


def _cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or os.name != "posix",
                    reason="needs /proc and POSIX signals")
def test_sigint_while_rendering_writes_nothing(tmp_path):
    # 676 frames at scale 18: imports take about 0.6 s of CPU, rendering 1.2 s, encoding 1.5 s
    out = tmp_path / "long.gif"
    old = tmp_path / "old.gif"
    old.write_bytes(b"keep me")
    before = _tree(tmp_path)
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "maxpool", "--kernel-size", "3",
                             "--stride", "1", "--max-frames", "676", "--scale", "18",
                             "--no-gifsicle", "--out", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            # Ctrl-C as a terminal's foreground job gets it, even when these
                            # tests run in a background job, whose children ignore SIGINT
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while _cpu_seconds(proc.pid) < 1.0:     # rendering, with more than a second to go
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["make_gif.py: interrupted; maxpool not written"]
    assert stdout == ""
    assert _tree(tmp_path) == before


# -- damaged --weights ---------------------------------------------------------------------------
def _damaged(kind, folder):
    p = folder / f"{kind}.npz"
    good = MODEL.read_bytes()
    if kind == "truncated":
        p.write_bytes(good[:len(good) // 2])
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("weights: none\n")
    elif kind == "not_zip":
        p.write_bytes(bytes(range(256)) * 8)
    elif kind == "bit_flipped":
        b = bytearray(good)
        b[len(b) // 3] ^= 0xFF
        p.write_bytes(bytes(b))
    elif kind == "zip_of_text":
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("notes.txt", "hello")
    elif kind == "wrong_keys":
        np.savez(p, a=np.zeros(3))
    elif kind == "wrong_params":
        with np.load(MODEL) as z:
            arrays = {k: z[k] for k in z.files if not k.startswith("param/")}
        np.savez(p, **arrays, **{"param/nope": np.zeros(2)})
    return p


@pytest.mark.parametrize("kind", ["truncated", "empty", "text", "not_zip", "bit_flipped",
                                  "zip_of_text", "wrong_keys", "wrong_params"])
def test_damaged_weights_is_one_line(tmp_path, capsys, kind):
    if not MODEL.is_file():
        pytest.skip("models/lenet5.npz is not shipped")
    bad = _damaged(kind, tmp_path)
    line = _fails(["conv2d", "--weights", str(bad), "--out", str(tmp_path / "x.gif")], capsys,
                  tmp_path)
    assert "argument --weights: cannot read" in line and str(bad) in line, line


def test_invert_turns_dark_ink_on_light_paper_into_mnist_polarity(tmp_path, capsys):
    """A dark digit on white paper: --invert gives light ink on dark, like MNIST, and the
    plain run says the picture is mostly light."""
    from PIL import Image
    a = np.full((28, 28), 255, np.uint8)
    a[6:22, 12:16] = 0                                    # a dark stroke
    pic = tmp_path / "paper.png"
    Image.fromarray(a).save(pic)
    from viz.inputs import load_image
    img, _, label = load_image(str(pic), invert=True)
    assert img[10, 13] == 1.0 and img[0, 0] == 0.0 and label is None
    capsys.readouterr()
    make_gif(["maxpool", "--input", str(pic), "--out", str(tmp_path / "a.gif")])
    assert "--invert" in capsys.readouterr().err
    make_gif(["maxpool", "--input", str(pic), "--invert", "--out", str(tmp_path / "b.gif")])
    assert "note:" not in capsys.readouterr().err
    assert (tmp_path / "a.gif").read_bytes() != (tmp_path / "b.gif").read_bytes()
