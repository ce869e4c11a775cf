"""Median forward/backward times of conv2d, max_pool2d and linear at LeNet-5's shapes, and of
the ops LeNet-5 does not use (transposed and 1-D convolution) at comparable shapes.

    python scripts/bench_ops.py [--batch 128] [--repeat 20]
"""
import argparse
import sys
import time

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, run_main
import numpy as np
import ops

# (name, forward, backward, make args) at LeNet-5's shapes, batch N. Inputs after C1 are
# in batch-last memory, as conv2d and max_pool2d hand them on in training (docs/ops.md).
def cases(n, rng):
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    last = lambda a: np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)  # noqa: E731
    return [
        ("conv1 6@5x5 pad 2", ops.conv2d, ops.conv2d_backward,
         (f32(n, 1, 28, 28), f32(6, 1, 5, 5), f32(6)), {"padding": 2}),
        ("pool1 2x2", ops.max_pool2d, ops.max_pool2d_backward, (last(f32(n, 6, 28, 28)), 2), {}),
        ("conv2 16@5x5", ops.conv2d, ops.conv2d_backward,
         (last(f32(n, 6, 14, 14)), f32(16, 6, 5, 5), f32(16)), {}),
        ("pool2 2x2", ops.max_pool2d, ops.max_pool2d_backward, (last(f32(n, 16, 10, 10)), 2), {}),
        ("fc 400->120", ops.linear, ops.linear_backward, (f32(n, 400), f32(120, 400), f32(120)), {}),
        ("fc 120->84", ops.linear, ops.linear_backward, (f32(n, 120), f32(84, 120), f32(84)), {}),
        ("fc 84->10", ops.linear, ops.linear_backward, (f32(n, 84), f32(10, 84), f32(10)), {}),
    ]


def other_cases(n, rng):
    """Ops outside LeNet-5, at shapes of the same size: not part of the epoch total."""
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    return [
        ("convT 6->1 5x5 s2", ops.conv_transpose2d, ops.conv_transpose2d_backward,
         (f32(n, 6, 14, 14), f32(6, 1, 5, 5), f32(1)), {"stride": 2, "padding": 2,
                                                          "output_padding": 1}),
        ("conv1d 16@5 L=196", ops.conv1d, ops.conv1d_backward,
         (f32(n, 6, 196), f32(16, 6, 5), f32(16)), {}),
        ("max_pool1d 2", ops.max_pool1d, ops.max_pool1d_backward, (f32(n, 6, 784), 2), {}),
        ("avg_pool1d 2", ops.avg_pool1d, ops.avg_pool1d_backward, (f32(n, 6, 784), 2), {}),
        ("depthwise 6@5x5", ops.conv2d, ops.conv2d_backward,
         (f32(n, 6, 14, 14), f32(6, 1, 5, 5), f32(6)), {"padding": "same", "groups": 6}),
    ]


def time_case(fwd, bwd, a, kw, repeat):
    out, cache = fwd(*a, **kw)
    dout = np.ones_like(out)
    return (median_ms(lambda: fwd(*a, **kw), repeat),
            median_ms(lambda: bwd(dout, cache), repeat))


def median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def main():
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=128, help="batch size (default: 128)")
    p.add_argument("--repeat", type=int, default=20, help="timed runs per op (default: 20)")
    p.add_argument("--memory", type=int, metavar="N",
                   help="instead: peak memory of conv2d 6@5x5 pad 2 on (N, 1, 28, 28), forward "
                        "and backward, numpy and (if installed) torch, each in a fresh process")
    args = p.parse_args()
    if args.memory is not None:
        return memory(args.memory)
    if args.batch < 1 or args.repeat < 1:
        p.error("--batch and --repeat must be positive")
    rng = np.random.default_rng(0)
    print(f"batch {args.batch}, float32, median of {args.repeat} runs (ms)")
    print(f"{'op':<20}{'forward':>10}{'backward':>10}")
    tot_f = tot_b = 0.0
    for name, fwd, bwd, a, kw in cases(args.batch, rng):
        tf, tb = time_case(fwd, bwd, a, kw, args.repeat)
        tot_f, tot_b = tot_f + tf, tot_b + tb
        print(f"{name:<20}{tf:>10.2f}{tb:>10.2f}")
    print(f"{'total':<20}{tot_f:>10.2f}{tot_b:>10.2f}")
    steps = 60000 / args.batch
    print(f"these ops alone: {(tot_f + tot_b) * steps / 1e3:.2f} s per 60,000-image epoch")
    print("not in LeNet-5:")
    for name, fwd, bwd, a, kw in other_cases(args.batch, rng):
        print(f"{name:<20}{'%10.2f%10.2f' % time_case(fwd, bwd, a, kw, args.repeat)}")
    x = rng.random((1, 1, 28, 28)).astype(np.float32)
    t = time.perf_counter()
    tr = ops.max_pool2d(x, 3, 1)[1].trace()
    print(f"trace of max_pool2d 3x3 stride 1 on 28x28: {len(tr)} steps in "
          f"{1e3 * (time.perf_counter() - t):.2f} ms")


def memory(n):
    from training.bench import conv_peak_mb_isolated
    if n < 1:
        raise SystemExit("bench_ops.py: --memory must be positive")
    print(f"conv2d 6@5x5 pad 2 on ({n}, 1, 28, 28) float32: peak RSS growth, MB")
    print(f"{'':<10}{'forward':>10}{'fwd+bwd':>10}")
    libs = ["numpy"]
    try:
        import torch  # noqa: F401
        libs.append("torch")
    except ImportError:
        print("(torch is not installed: numpy only)")
    for lib in libs:
        r = conv_peak_mb_isolated(lib, n)
        print(f"{lib:<10}{r['forward_mb']:>10.0f}{r['backward_mb']:>10.0f}")


if __name__ == "__main__":
    sys.exit(run_main(main))
