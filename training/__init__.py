"""Training: data preparation, augmentation, the trainer loop, checkpoints and metrics."""

from .augment import affine_sample, augment_batch, random_affine, random_shift
from .checkpoint import (CheckpointError, load_model, read_npz, save_checkpoint, save_npz_atomic,
                         save_weights)
from .config import TrainConfig, build_model, build_training
from .data import MNIST_MEAN, MNIST_STD, background_value, batch_indices, prepare_images
from .evaluation import describe_views, evaluate_arrays, predict_logits, views_for
from .metrics import MetricsLog, confusion_matrix, most_confused, per_class_table, peak_rss_mb
from .trainer import Trainer, TrainingDiverged

__all__ = [
    "CheckpointError", "MNIST_MEAN", "MNIST_STD", "MetricsLog", "TrainConfig", "Trainer",
    "TrainingDiverged", "affine_sample", "augment_batch", "background_value", "batch_indices",
    "build_model", "build_training", "confusion_matrix", "describe_views", "evaluate_arrays",
    "load_model", "most_confused", "per_class_table", "peak_rss_mb", "predict_logits",
    "prepare_images", "random_affine", "random_shift", "read_npz", "save_checkpoint",
    "save_npz_atomic", "save_weights", "views_for",
]
