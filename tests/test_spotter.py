"""The command spotter (voicecoach/recognition/spotter.py): real ONNX front end, shipped models,
espeak-ng speech. What it hears in general is in test_recognizer.py (shared cases)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import speechgen

from voicecoach import checksums
from voicecoach.commands import load_vocabulary
from voicecoach.errors import InputError, MissingDependencyError
from voicecoach.recognition import spotter
from voicecoach.recognition.base import Tuning, recognize_samples
from voicecoach.recognition.factory import create_recognizer
from voicecoach.recognition.spotter import SpotterModel, SpotterRecognizer, spotter_model_path


@pytest.fixture(scope="module")
def commands_with_noise_floor() -> np.ndarray:
    words = ["next", "three", "pause", "lower slowly", "resume", "stop"]
    signal, _ = speechgen.layout([(w, speechgen.say(w, "en-gb+m7")) for w in words],
                                 gap=0.7, lead=0.2)
    return signal + speechgen.pink_noise(signal.size / speechgen.RATE, seed=3) * 0.003


def test_chunk_size_does_not_change_what_is_heard(commands_with_noise_floor: np.ndarray) -> None:
    recognizer = create_recognizer("en", "spotter", live=False, gate=None)
    by_chunk = {chunk: recognize_samples(recognizer, commands_with_noise_floor, chunk)
                for chunk in (0.01, 0.03, 0.08, 0.5, 3.0)}
    first = by_chunk[0.01]
    assert [h.command for h in first] == ["next", "pause", "resume", "stop"]
    assert all(heard == first for heard in by_chunk.values())


def test_recogniser_hears_the_features_training_uses(commands_with_noise_floor: np.ndarray
                                                     ) -> None:
    """Block by block, the recogniser's embeddings are embed_stream's, which
    scripts/spotter/train.py trains on: one front end for both."""
    recognizer = create_recognizer("en", "spotter", live=False, gate=None,
                                   tuning=Tuning(threshold=0.5, settle=None))  # no dither
    assert isinstance(recognizer, SpotterRecognizer)
    streamed = []
    for first in range(0, commands_with_noise_floor.size, spotter.FRAME_SAMPLES):
        recognizer.accept(commands_with_noise_floor[first:first + spotter.FRAME_SAMPLES])
        streamed.append(recognizer._embeddings[-1].copy())
    expected = spotter.embed_stream(commands_with_noise_floor)
    assert expected.shape[0] == commands_with_noise_floor.size // spotter.FRAME_SAMPLES > 50
    np.testing.assert_allclose(np.array(streamed[:expected.shape[0]]), expected, atol=1e-5)
    assert np.abs(expected).mean() > 0.1


def _fired(recognizer: SpotterRecognizer, frames: list[list[float]]) -> list[int]:
    """Frame indexes at which ``recognizer`` fires on these class probabilities."""
    return [index for index, row in enumerate(frames)
            if recognizer._decide(np.array(row), now=0.08 * (index + 1) + 100.0)]


def test_only_a_sure_frame_fires_alone() -> None:
    def fresh() -> SpotterRecognizer:
        recognizer = create_recognizer("en", "spotter", live=False, gate=None,
                                       tuning=Tuning(threshold=0.7, settle=None))
        assert isinstance(recognizer, SpotterRecognizer)
        return recognizer

    quiet = [1.0, 0, 0, 0, 0, 0, 0]
    doubtful = [0.2, 0.8, 0, 0, 0, 0, 0]  # "next" above the threshold, below CONFIDENT
    sure = [0.05, 0, 0, spotter.CONFIDENT + 0.02, 0, 0, 0]
    assert _fired(fresh(), [quiet, doubtful, quiet, quiet]) == []
    assert _fired(fresh(), [quiet, doubtful, doubtful, quiet]) == [2]
    assert _fired(fresh(), [quiet, sure, quiet, quiet]) == [1]


def test_sure_commands_are_reported_a_frame_sooner(commands_with_noise_floor: np.ndarray,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def reported_at() -> list[tuple[str, float]]:
        recognizer = create_recognizer("en", "spotter", live=False, gate=None)
        reports = []
        for first in range(0, commands_with_noise_floor.size, spotter.FRAME_SAMPLES):
            chunk = commands_with_noise_floor[first:first + spotter.FRAME_SAMPLES]
            reports += [(heard.command, recognizer.position) for heard in recognizer.accept(chunk)]
        return reports

    sooner = reported_at()
    monkeypatch.setattr(spotter, "CONFIDENT", 2.0)  # always wait for a second frame
    waited = reported_at()
    assert [command for command, _ in sooner] == [command for command, _ in waited] \
        == ["next", "pause", "resume", "stop"]
    gains = [round(late - early, 2) for (_, early), (_, late) in zip(sooner, waited)]
    assert set(gains) <= {0.0, 0.08} and 0.08 in gains


def test_command_in_the_first_second_is_heard() -> None:
    signal, placed = speechgen.layout([("repeat", speechgen.say("repeat", "en-us"))],
                                      lead=0.1)
    heard = recognize_samples(create_recognizer("en", "spotter", live=False, gate=None), signal)
    assert [h.command for h in heard] == ["repeat"]
    assert heard[0].start <= placed[0].start + 0.3 and heard[0].end >= placed[0].end - 0.3


def test_probabilities_of_a_batch_match_one_by_one() -> None:
    model = SpotterModel.load(spotter_model_path("ko"))
    windows = np.random.default_rng(0).normal(size=(5, model.frames, 96)).astype(np.float32)
    batch = model.probabilities(windows)
    assert batch.shape == (5, len(model.classes))
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, rtol=1e-5)
    for window, row in zip(windows, batch):
        np.testing.assert_allclose(model.probabilities(window), row, atol=1e-6)


def test_broken_model_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "spotter-en.npz"
    broken.write_bytes(b"not a model")
    with pytest.raises(InputError, match=str(broken)):
        SpotterModel.load(broken)
    truncated = tmp_path / "small.npz"
    np.savez(truncated, mean=np.zeros(3))
    with pytest.raises(InputError, match="not a spotter model"):
        SpotterModel.load(truncated)


def test_model_with_commands_the_vocabulary_lacks_is_refused() -> None:
    model = SpotterModel.load(spotter_model_path("en"))
    vocabulary = load_vocabulary("en")
    fewer = type(vocabulary)(vocabulary.language, {"next": ("next",)})
    with pytest.raises(InputError, match="done"):
        SpotterRecognizer(fewer, model)


def test_shipped_feature_models_match_their_pinned_sha256() -> None:
    for name, digest in spotter.FEATURE_MODELS.items():
        assert checksums.sha256_of(spotter.FEATURE_DIR / name) == digest


def test_a_damaged_feature_model_is_refused_in_one_line(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in spotter.FEATURE_MODELS:
        (tmp_path / name).write_bytes((spotter.FEATURE_DIR / name).read_bytes())
    damaged = tmp_path / "embedding_model.onnx"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: onnxruntime would still load it
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(spotter, "FEATURE_DIR", tmp_path)
    with pytest.raises(MissingDependencyError) as error:
        spotter.SpeechEmbedder()
    message = str(error.value)
    assert "\n" not in message and str(damaged) in message
    assert "sha256" in message and "reinstall voicecoach" in message


def test_missing_feature_models_say_what_to_do(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spotter, "FEATURE_DIR", tmp_path)
    assert not spotter.has_spotter_model("en")
    with pytest.raises(MissingDependencyError, match="melspectrogram.onnx.*reinstall voicecoach"):
        spotter.SpeechEmbedder()
