"""The headless audio rigs do what the other tests rely on."""

from __future__ import annotations

import json
import time

import numpy as np
from rigs import CAPTURE_RATE, PLAYED_RATE, AlsaFileRig, PulseRig, burst, espeak, onsets

PLAY_AND_RECORD = """
import json, numpy as np, sounddevice as sd
tone = (0.5 * np.cos(2 * np.pi * 440 * np.arange(4410) / 22050)).astype(np.float32)
sd.play(tone, 22050, blocking=True)
heard = sd.rec(8000, samplerate=16000, channels=1, dtype="float32", blocking=True)
print(json.dumps(heard[:, 0].tolist()))
"""


def test_alsa_file_rig_writes_what_is_played_and_captures_the_prepared_file(
        alsa_file_rig: AlsaFileRig) -> None:
    ramp = np.linspace(-0.5, 0.5, CAPTURE_RATE, dtype=np.float32)
    alsa_file_rig.set_capture(ramp)
    heard = np.array(alsa_file_rig.run_json(PLAY_AND_RECORD), dtype=np.float32)
    # A float32 reader at CAPTURE_RATE gets every sample of the file, in order.
    assert np.array_equal(heard, ramp[:8000])

    played = alsa_file_rig.played()
    start = int(onsets(played)[0])
    tone = (0.5 * np.cos(2 * np.pi * 440 * np.arange(4410) / PLAYED_RATE)).astype(np.float32)
    assert np.max(np.abs(played[start:start + tone.size] - tone)) < 2 / 32768
    assert not np.any(played[start + tone.size:])


def test_pulse_rig_hears_the_room_in_real_time(pulse: PulseRig) -> None:
    speech = espeak("next")
    recording = pulse.record()
    began = time.monotonic()
    pulse.speak_into_room(np.concatenate([np.zeros(PLAYED_RATE // 2, np.float32), speech]))
    time.sleep(0.3)
    heard = recording.stop()
    elapsed = time.monotonic() - began
    # Paced: the recording is about as long as the wall-clock time it took.
    assert abs(heard.size / PLAYED_RATE - elapsed) < 0.3
    # The spoken word is in it, unchanged apart from PulseAudio's resampling.
    correlation = np.correlate(heard, speech, mode="valid")
    at = int(np.argmax(correlation))
    match = heard[at:at + speech.size]
    assert np.dot(match, speech) / (np.linalg.norm(match) * np.linalg.norm(speech)) > 0.95


def test_pulse_rig_child_plays_into_the_room(pulse: PulseRig) -> None:
    recording = pulse.record()
    pulse.run_python("import numpy as np, sounddevice as sd, json, sys\n"
                     "tone = np.array(json.loads(sys.argv[1]), dtype=np.float32)\n"
                     # 35 ms ("high") streams through ALSA->pulse often lose
                     # everything, and stopping drops the last `latency` of sound.
                     "pad = np.zeros(11025, np.float32)\n"
                     "sd.play(np.concatenate([pad, tone, pad]), 22050, "
                     "blocking=True, latency=0.2)\n",
                     args=[json.dumps(burst(0.1).tolist())])
    heard = recording.stop()
    assert len(onsets(heard, threshold=0.2, min_gap=4000)) == 1
