"""mnist.images: the input spec, and pictures in 16 bits, with alpha, inverted or too large."""
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from mnist.images import ASSET, MAX_INPUT_PIXELS, load_input, read_picture
from training.features import load_digits
from viz.inputs import load_image


def _digit_mask():
    m = np.zeros((20, 16), bool)
    m[4:16, 7:10] = True            # a "1"
    return m


def test_sixteen_bit_gradient_stays_a_gradient(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).round().astype(np.uint16), (8, 1))
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    with Image.open(tmp_path / "ramp.png") as im:
        assert im.mode.startswith("I")       # really a 16-bit file
    img, _ = read_picture(tmp_path / "ramp.png")
    np.testing.assert_allclose(img, ramp / 65535, atol=1e-6)
    assert np.all(np.diff(img[0]) > 0) and (img == 1.0).mean() < 0.02


def test_dark_digit_on_transparent_background_shows(tmp_path):
    rgba = np.zeros((20, 16, 4), np.uint8)              # transparent black everywhere
    rgba[_digit_mask(), 3] = 255                        # opaque black ink
    Image.fromarray(rgba, "RGBA").save(tmp_path / "dark.png")
    img, notice = read_picture(tmp_path / "dark.png")
    assert np.all(img[_digit_mask()] == 0) and np.all(img[~_digit_mask()] == 1)
    assert "mostly light" in notice and "--invert" in notice
    img, notice = read_picture(tmp_path / "dark.png", invert=True)
    assert np.all(img[_digit_mask()] == 1) and np.all(img[~_digit_mask()] == 0)
    assert notice is None


def test_light_digit_on_transparent_background_shows(tmp_path):
    la = np.zeros((20, 16, 2), np.uint8)
    la[_digit_mask()] = (255, 255)                      # opaque white ink
    Image.fromarray(la, "LA").save(tmp_path / "light.png")
    img, notice = read_picture(tmp_path / "light.png")
    assert np.all(img[_digit_mask()] == 1) and np.all(img[~_digit_mask()] == 0)
    assert notice is None


def test_half_transparent_ink_is_blended(tmp_path):
    rgba = np.zeros((20, 16, 4), np.uint8)
    rgba[_digit_mask()] = (0, 0, 0, 128)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "half.png")
    img, _ = read_picture(tmp_path / "half.png")
    np.testing.assert_allclose(img[_digit_mask()], 1 - 128 / 255, atol=1e-6)


def test_mostly_light_picture_gets_a_notice_and_invert_fixes_it(tmp_path):
    paper = np.full((20, 16), 230, np.uint8)
    paper[_digit_mask()] = 20
    Image.fromarray(paper).save(tmp_path / "paper.jpg", quality=95)
    img, notice = read_picture(tmp_path / "paper.jpg")
    assert img.mean() > 0.5 and "paper.jpg is mostly light" in notice
    inv, notice = read_picture(tmp_path / "paper.jpg", invert=True)
    np.testing.assert_allclose(inv, 1 - img, atol=1e-6)
    assert notice is None
    dark, _ = read_picture(tmp_path / "paper.jpg", invert=True)
    Image.fromarray((dark * 255).astype(np.uint8)).save(tmp_path / "dark.png")
    _, notice = read_picture(tmp_path / "dark.png", invert=True)
    assert "leave out --invert" in notice


def _png_claiming(path, width, height):
    """A small real PNG whose header is rewritten to claim ``width`` x ``height``."""
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = bytes(data[16:29])
    ihdr = struct.pack(">II", width, height) + ihdr[8:]
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("side", [10_000, 14_000, 100_000])
def test_huge_images_are_refused_from_their_header(tmp_path, side):
    path = _png_claiming(tmp_path / "bomb.png", side, side)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no raw Pillow warning either
        with pytest.raises(ValueError, match="too large") as info:
            read_picture(path)
    assert "4096×4096" in str(info.value) and "\n" not in str(info.value)


def test_the_pixel_limit_is_exact(tmp_path):
    side = int(MAX_INPUT_PIXELS ** 0.5)
    Image.new("L", (side + 1, side)).save(tmp_path / "over.png")
    with pytest.raises(ValueError, match=f"{side + 1}×{side} pixels"):
        read_picture(tmp_path / "over.png")
    Image.new("L", (side, side)).save(tmp_path / "at.png")
    img, _ = read_picture(tmp_path / "at.png", max_side=64)
    assert img.shape == (64, 64) and img.max() == 0


@pytest.mark.parametrize("content", [b"", b"not an image", None])
def test_unreadable_pictures_are_one_clear_error(tmp_path, content):
    path = tmp_path / "bad.png"
    if content is None:                     # a PNG cut in the middle of its data
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(path)
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="cannot read the image"):
        read_picture(path)


def test_resize_policies(tmp_path):
    Image.fromarray(np.full((40, 200), 50, np.uint8)).save(tmp_path / "wide.png")
    img, _ = read_picture(tmp_path / "wide.png", max_side=64)
    assert img.shape == (13, 64) and np.allclose(img, 50 / 255, atol=1e-6)
    img, _ = read_picture(tmp_path / "wide.png", size=(28, 28))
    assert img.shape == (28, 28)
    small, _ = read_picture(tmp_path / "wide.png", max_side=500)
    assert small.shape == (40, 200)


def test_both_callers_read_one_spec(tmp_path):
    bundled = np.load(ASSET)
    img, desc, label = load_image("default")
    np.testing.assert_array_equal(img, bundled / np.float32(255))
    assert desc == "MNIST test image #0 (a 7)" and label == 7
    digits, labels, names = load_digits("default")
    np.testing.assert_array_equal(digits[0], bundled)
    assert labels == [7] and names == ["MNIST test #0"]
    got = load_input("default")
    assert got.images.dtype == np.float32 and got.indices == [0]

    rgba = np.zeros((56, 42, 4), np.uint8)
    rgba[10:46, 18:24, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "one.png")
    img, desc, label = load_image(str(tmp_path / "one.png"), invert=True)
    assert label is None                                  # a picture has no class
    assert img.shape == (56, 42) and desc == "one.png (grayscale, 56×42)"
    digits, labels, _ = load_digits(str(tmp_path / "one.png"), invert=True)
    assert digits.shape == (1, 28, 28) and digits.dtype == np.uint8 and labels == [None]
    assert digits[0, 14, 13] == 255 and digits[0, 0, 0] == 0


def test_mostly_light_notice_is_printed_once(tmp_path, capsys):
    Image.fromarray(np.full((10, 10), 240, np.uint8)).save(tmp_path / "white.png")
    load_image(str(tmp_path / "white.png"))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("note: white.png is mostly light")
