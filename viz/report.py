"""The figures of a training run's report, as matplotlib figures: what
``scripts/report.py`` saves as PNGs.

Each takes arrays and the epoch records of ``metrics.jsonl`` (``training.MetricsLog``),
never a model or a file: the script evaluates, these draw.
"""
import matplotlib.pyplot as plt
import numpy as np

LOSS_C, TEST_C, TRAIN_C, LR_C = "#d62728", "#1f77b4", "#ff7f0e", "#7f7f7f"


def _series(records, key, sub=None):
    """A metric per epoch as floats, NaN where missing (a diverged run logs null)."""
    out = []
    for r in records:
        v = r.get(key)
        if sub is not None:
            v = (v or {}).get(sub)
        out.append(np.nan if v is None else float(v))
    return np.array(out)


def plot_curves(records, title):
    """Loss, error (train and test) and learning rate per epoch, side by side."""
    ep = _series(records, "epoch")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    ax.plot(ep, _series(records, "train_loss"), "o-", color=TRAIN_C, ms=3, label="train")
    ax.plot(ep, _series(records, "test_loss"), "o-", color=TEST_C, ms=3, label="test")
    ax.set(yscale="log", xlabel="epoch", title="cross-entropy loss")
    ax.legend()
    ax = axes[1]
    test_err = 100 * _series(records, "test_error")
    ax.plot(ep, 100 * (1 - _series(records, "train_acc")), "o-", color=TRAIN_C, ms=3,
            label="train (during the epoch)")
    ax.plot(ep, test_err, "o-", color=TEST_C, ms=3, label="test")
    if np.isfinite(test_err).any():
        best = int(np.nanargmin(test_err))
        ax.annotate(f"{test_err[best]:.2f}%", (ep[best], test_err[best]),
                    textcoords="offset points", xytext=(0, -14), ha="center", color=TEST_C)
    ax.set(yscale="log", xlabel="epoch", ylabel="%", title="error")
    ax.legend()
    ax = axes[2]
    ax.plot(ep, _series(records, "lr"), "o-", color=LR_C, ms=3)
    ax.set(xlabel="epoch", title="learning rate (at the epoch's start)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    for a in axes:
        a.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion(cm, error, source, classes=None):
    """The confusion matrix ``cm`` (true × predicted): mistakes coloured, the diagonal
    in green; ``classes`` names the rows and columns (default: the digits)."""
    named = classes is not None and any(len(c) > 2 for c in classes)
    fig, ax = plt.subplots(figsize=(7.4, 6.6) if named else (6.4, 5.6))
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)       # the diagonal would drown the mistakes
    im = ax.imshow(off, cmap="Reds", vmin=0, vmax=max(1.0, np.nanmax(off)))
    K = cm.shape[0]
    for t in range(K):
        for p in range(K):
            if cm[t, p] == 0:
                continue
            diag = t == p
            ax.text(p, t, str(cm[t, p]), ha="center", va="center", fontsize=8,
                    color="#1f5f1f" if diag else
                    ("white" if off[t, p] > 0.6 * np.nanmax(off) else "black"),
                    fontweight="bold" if diag else "normal")
    ax.set(xticks=range(K), yticks=range(K), xlabel="predicted", ylabel="true",
           title=f"confusion matrix, {source}: test error {100 * error:.2f}% "
                 f"({int(cm.sum() - np.trace(cm))} of {int(cm.sum())})")
    if named:
        ax.set_xticklabels(classes, rotation=40, ha="right", fontsize=8)
        ax.set_yticklabels(classes, fontsize=8)
    ax.title.set_fontsize(10)
    fig.colorbar(im, ax=ax, fraction=0.046, label="mistakes (diagonal: correct, in green)")
    fig.tight_layout()
    return fig


def plot_misclassified(images, labels, probs, max_errors, classes=None):
    """Up to ``max_errors`` misclassified images (N, 28, 28), most confident first, each
    titled true→predicted and the confidence."""
    preds = probs.argmax(1)
    wrong = np.flatnonzero(preds != labels)
    conf = probs[wrong, preds[wrong]]
    wrong = wrong[np.argsort(-conf, kind="stable")][:max_errors]     # most confident first
    cols = 10
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.15, rows * 1.35 + 0.5),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
        p = probs[i, preds[i]]
        conf = ">99%" if p >= 0.995 else f"{100 * p:.0f}%"      # never round up to 100%
        if classes is None:
            ax.set_title(f"{labels[i]}→{preds[i]} {conf}", fontsize=8)
        else:   # names are long: one line each
            ax.set_title(f"{classes[labels[i]]}\n→{classes[preds[i]]} {conf}", fontsize=6.5)
        ax.text(0.02, 0.98, f"#{i}", transform=ax.transAxes, color="#aaaaaa", fontsize=6,
                va="top")
    total = int((preds != labels).sum())
    what = "digits" if classes is None else "images"
    fig.suptitle(f"{len(wrong)} of {total} misclassified test {what}, most confident first "
                 "(true→predicted, confidence; #test index)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_norms(records, init_norms=None):
    """Per-layer weight norms (from ``init_norms`` at epoch 0) and gradient norms per epoch."""
    ep = _series(records, "epoch")
    names = [k for k in (records[0].get("weight_norm") or {}) if k.endswith("weight")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(names), 1)))
    for name, c in zip(names, colors):
        wn = _series(records, "weight_norm", name)
        if init_norms and name in init_norms:          # epoch 0: the initial weights
            axes[0].plot(np.r_[0, ep], np.r_[init_norms[name], wn], "o-", ms=3, color=c,
                         label=name)
        else:
            axes[0].plot(ep, wn, "o-", ms=3, color=c, label=name)
        axes[1].plot(ep, _series(records, "grad_norm", name), "o-", ms=3, color=c, label=name)
    gmax = _series(records, "grad_norm_max")
    if np.isfinite(gmax).any():
        axes[1].plot(ep, gmax, "k--", lw=1, label="largest total norm of a step")
    axes[0].set(xlabel="epoch", title="weight norm ‖W‖₂ per layer (epoch end; 0: initial)")
    axes[1].set(yscale="log", xlabel="epoch",
                title="gradient norm ‖∇W‖₂ per layer (mean over the epoch's steps)")
    for a, loc in zip(axes, ("center right", "upper right")):
        a.grid(alpha=0.3, which="both")
        a.legend(fontsize=8, loc=loc)
    fig.tight_layout()
    return fig
