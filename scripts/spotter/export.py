"""Trained sklearn pipeline (pickle) -> the runtime's spotter weight file (.npz).

    scripts/dev scripts/spotter/export.py MODEL.pkl voicecoach/data/spotter-LANG.npz

The pipeline must be StandardScaler -> MLPClassifier with one ReLU hidden layer and a
softmax output over the classes 0..6 (none, then the canonical commands in order).
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

CLASSES = ("none", "next", "done", "pause", "resume", "repeat", "stop")
FRAMES = 16
EMBEDDING_SIZE = 96


def export(pipeline: Pipeline, out: Path) -> dict[str, np.ndarray]:
    """Write the weights of ``pipeline`` to ``out`` and check that the runtime's forward
    pass over them agrees with the pipeline; returns the arrays written."""
    scaler, mlp = pipeline[0], pipeline[-1]
    if len(pipeline) != 2 or type(scaler).__name__ != "StandardScaler" \
            or type(mlp).__name__ != "MLPClassifier":
        raise ValueError(f"expected StandardScaler -> MLPClassifier, got {pipeline}")
    if mlp.activation != "relu" or mlp.out_activation_ != "softmax":
        raise ValueError(f"expected relu hidden / softmax output, got {mlp.activation} / "
                         f"{mlp.out_activation_}")
    if len(mlp.coefs_) != 2:
        raise ValueError(f"expected one hidden layer, got {len(mlp.coefs_) - 1}")
    if list(mlp.classes_) != list(range(len(CLASSES))):
        raise ValueError(f"expected classes 0..{len(CLASSES) - 1}, got {mlp.classes_}")
    if scaler.mean_.shape != (FRAMES * EMBEDDING_SIZE,) or scaler.scale_ is None:
        raise ValueError(f"expected a scaler over {FRAMES} x {EMBEDDING_SIZE} inputs")
    arrays = {
        "mean": scaler.mean_, "scale": scaler.scale_,
        "w1": mlp.coefs_[0], "b1": mlp.intercepts_[0],
        "w2": mlp.coefs_[1], "b2": mlp.intercepts_[1],
    }
    arrays = {name: np.asarray(a, dtype=np.float32) for name, a in arrays.items()}
    arrays["classes"] = np.array(CLASSES)
    arrays["frames"] = np.array(FRAMES)
    noise = np.random.default_rng(0).standard_normal((256, arrays["mean"].size))
    probe = (arrays["mean"] + arrays["scale"] * noise).astype(np.float32)
    error = np.abs(probabilities(arrays, probe) - pipeline.predict_proba(probe)).max()
    if error > 1e-4:
        raise ValueError(f"exported weights disagree with the pipeline by {error:.2g}")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    return arrays


def probabilities(weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The runtime's forward pass: windows (n, 1536) -> class probabilities (n, 7)."""
    hidden = np.maximum((x - weights["mean"]) / weights["scale"] @ weights["w1"]
                        + weights["b1"], 0.0)
    logits = hidden @ weights["w2"] + weights["b2"]
    odds = np.exp(logits - logits.max(axis=1, keepdims=True))
    return odds / odds.sum(axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="pickled sklearn pipeline")
    parser.add_argument("out", type=Path, help="weight file to write (.npz)")
    args = parser.parse_args()
    with args.model.open("rb") as handle:
        pipeline = pickle.load(handle)
    export(pipeline, args.out)
    print(f"{args.out}: {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
