"""The live player through real PortAudio: the ALSA file rig (exact samples) and the
PulseAudio rig (real time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rigs import AlsaFileRig, PulseRig, burst, espeak, onsets, run_player

RATE = 22050
CLIPS = {"tick": ["burst", 0.05, 1000.0], "tock": ["burst", 0.05, 500.0],
         "long": ["burst", 2.0, 300.0], "longer": ["burst", 30.0, 300.0],
         "one": ["espeak", "one"]}


def clip(name: str) -> np.ndarray:
    how = CLIPS[name]
    return burst(how[1], how[2]) if how[0] == "burst" else espeak(str(how[1]))


def sample(seconds: float) -> int:
    return int(round(seconds * RATE))


def events_of(result: dict, kind: str) -> list[list]:
    return [e for e in result["events"] if e[0] == kind]


def expected_mix(cues: list[list], result: dict, length: int) -> np.ndarray:
    """What should be heard: every sounding cue's clip at the stream sample it was reached."""
    out = np.zeros(length, dtype=np.float32)
    for _kind, index, _plan, stream, _held, _dac in events_of(result, "cue"):
        text = cues[index][2]
        if cues[index][1] in ("speech", "earcon"):
            data = clip(text)[: max(0, length - stream)]
            out[stream:stream + data.size] += data
    return out


def anchored(played: np.ndarray, result: dict) -> np.ndarray:
    """The played file from the stream's sample 0 (after PortAudio's priming silence),
    found from the first sound: the first cue reached must be a burst."""
    start = int(onsets(played)[0]) - events_of(result, "cue")[0][3]
    assert start >= 0
    return played[start:]


def test_cues_land_exactly_on_their_sample_index(alsa_file_rig: AlsaFileRig) -> None:
    cues = [[0.0, "speech", "tick", 0.05, None],
            [0.25, "speech", "tock", 0.05, None],
            [0.6123, "mark", "rep 1", 1.0, "rep"],
            [0.6123, "earcon", "tick", 0.0, None],
            [1.0, "speech", "one", 0.5, None],
            [1.9, "speech", "tock", 0.05, None],
            [1.7, "speech", "tick", 0.05, None],  # out of list order: time decides
            [7.77777, "speech", "tock", 0.05, None],
            [7.8, "mark", "end", 0.0, "end"]]
    result = run_player(alsa_file_rig, {"cues": cues, "clips": CLIPS})
    assert result["rate"] == RATE

    reached = events_of(result, "cue")
    assert [e[1] for e in reached] == [0, 1, 2, 3, 4, 6, 5, 7, 8]
    for _kind, index, plan, stream, _held, _dac in reached:
        assert plan == sample(cues[index][0]) and stream == plan + result["preroll"]
    assert result["events"][-1][0] == "finished"

    played = anchored(alsa_file_rig.played(), result)
    want = expected_mix(cues, result, sample(7.8) + result["preroll"])
    # 16-bit quantisation is the only difference: every cue is at its exact sample.
    assert np.max(np.abs(played[: want.size] - want)) < 2 / 32768
    assert len(onsets(played[: want.size], min_gap=2000)) == 7


def test_gate_holds_until_released_and_say_now_plays_meanwhile(
        alsa_file_rig: AlsaFileRig) -> None:
    cues = [[0.0, "speech", "tick", 0.05, None],
            [0.5, "gate", "ready?", 0.0, None],
            [0.5, "speech", "tock", 0.05, None],
            [1.0, "speech", "tick", 0.05, None]]
    actions = [["gate_waiting", 1, 0.0, "say:one"], ["gate_waiting", 1, 0.3, "release_gate"]]
    result = run_player(alsa_file_rig, {"cues": cues, "clips": CLIPS, "actions": actions})

    (waiting,), (released,) = events_of(result, "gate_waiting"), events_of(result, "gate_released")
    hold_start, held = waiting[3], released[4]
    assert waiting[2] == sample(0.5) and hold_start == sample(0.5) + result["preroll"]
    assert held >= 0.3 * RATE  # unpaced rig: at least as many samples as real time
    after = {e[1]: e for e in events_of(result, "cue")}
    assert after[2][3] == hold_start + held and after[2][2] == sample(0.5)
    assert after[3][3] == sample(1.0) + held + result["preroll"]

    played = anchored(alsa_file_rig.played(), result)
    # While held only say_now's clip sounds: one sound between the gate and its release.
    during = played[hold_start:hold_start + held]
    spoken = espeak("one")
    assert len(onsets(during, min_gap=4000)) == 1
    assert np.count_nonzero(np.abs(during) > 0.01) <= np.count_nonzero(np.abs(spoken) > 0.01)
    assert onsets(played[hold_start + held - 10:])[0] == 10


def test_pause_freezes_plan_and_sound_and_resume_continues(alsa_file_rig: AlsaFileRig) -> None:
    # The tone is still sounding when the gate is reached (for 29 s of stream, some
    # 0.2 s of wall time in the unpaced rig); pausing there freezes it mid-way, and
    # after resume it plays its remaining samples.
    cues = [[0.0, "speech", "tick", 0.05, None],
            [0.2, "speech", "longer", 30.0, None],
            [1.0, "gate", "ready?", 0.0, None],
            [32.0, "speech", "tick", 0.05, None]]
    actions = [["gate_waiting", 2, 0.0, "pause"], ["gate_waiting", 2, 0.0, "release_gate"],
               ["gate_waiting", 2, 0.3, "resume"]]
    result = run_player(alsa_file_rig, {"cues": cues, "clips": CLIPS, "actions": actions})

    (paused,), (resumed,) = events_of(result, "paused"), events_of(result, "resumed")
    pause_at, resume_at = paused[3], resumed[3]
    assert resumed[4] == resume_at - pause_at >= 0.3 * RATE
    assert paused[2] == resumed[2] == sample(1.0)  # the plan clock did not move
    last = events_of(result, "cue")[-1]
    assert last[1] == 3 and last[3] == resume_at + sample(31.0)

    played = anchored(alsa_file_rig.played(), result)
    fade = int(0.005 * RATE)
    assert np.max(np.abs(played[pause_at + fade:resume_at])) == 0.0
    long_start = sample(0.2) + result["preroll"]
    assert pause_at < long_start + sample(30.0), "paused after the tone ended"
    heard = np.abs(played[long_start:resume_at + sample(30.5)]) > 0.05
    # Every sample of the 30 s tone is heard exactly once (give or take the fades).
    assert abs(np.count_nonzero(heard) - np.count_nonzero(np.abs(clip("longer")) > 0.05)) \
        < 2 * fade
    assert np.max(np.abs(played[resume_at:resume_at + sample(0.1)])) > 0.25


def test_skip_rest_jumps_to_the_end_of_the_rest(alsa_file_rig: AlsaFileRig) -> None:
    cues = [[0.0, "speech", "tick", 0.05, None],
            [1.0, "mark", "rest", 120.0, "rest"],
            [1.0, "speech", "long", 2.0, None],
            [100.0, "speech", "tock", 0.05, None],
            [122.0, "speech", "tick", 0.05, None]]
    actions = [["cue", 1, 0.0, "skip_rest"]]
    result = run_player(alsa_file_rig, {"cues": cues, "clips": CLIPS, "actions": actions})

    (skipped,) = events_of(result, "rest_skipped")
    skip_at, jumped = skipped[3], -skipped[4]
    assert skipped[2] == sample(121.0)  # the plan is at the rest's end
    assert skip_at - result["preroll"] - sample(1.0) + jumped == sample(120.0)
    reached = {e[1]: e for e in events_of(result, "cue")}
    assert 3 not in reached  # the cue inside the rest is not played
    assert reached[4][2] == sample(122.0) and reached[4][3] == skip_at + sample(1.0)

    played = anchored(alsa_file_rig.played(), result)
    fade = int(0.005 * RATE)
    assert np.max(np.abs(played[skip_at + fade:skip_at + sample(1.0)])) == 0.0
    assert onsets(played[skip_at + fade:])[0] == sample(1.0) - fade


def test_advance_releases_a_gate_or_skips_a_rest(alsa_file_rig: AlsaFileRig) -> None:
    cues = [[0.0, "speech", "tick", 0.05, None],
            [0.5, "gate", "ready?", 0.0, None],
            [0.5, "speech", "tock", 0.05, None],
            [1.0, "mark", "rest", 60.0, "rest"],
            [61.0, "speech", "tick", 0.05, None]]
    actions = [["gate_waiting", 1, 0.0, "advance"], ["cue", 3, 0.0, "advance"],
               ["cue", 4, 0.0, "advance"]]  # neither at a gate nor resting: ignored
    result = run_player(alsa_file_rig, {"cues": cues, "clips": CLIPS, "actions": actions})
    kinds = [e[0] for e in result["events"] if e[0] not in ("cue", "gate_waiting")]
    assert kinds == ["gate_released", "rest_skipped", "finished"]
    assert events_of(result, "cue")[-1][1:3] == [4, sample(61.0)]


def test_seek_starts_from_a_cue(alsa_file_rig: AlsaFileRig) -> None:
    cues = [[0.0, "speech", "tock", 0.05, None],
            [0.5, "speech", "tock", 0.05, None],
            [1.0, "speech", "tick", 0.05, None],
            [1.5, "speech", "tick", 0.05, None]]
    result = run_player(alsa_file_rig, {"cues": cues, "clips": CLIPS, "seek": 2})
    reached = events_of(result, "cue")
    assert [e[1] for e in reached] == [2, 3]
    assert reached[0][2] == sample(1.0) and reached[0][3] == result["preroll"]
    assert reached[1][3] - reached[0][3] == sample(0.5)
    played = anchored(alsa_file_rig.played(), result)
    want = expected_mix(cues, result, reached[1][3] + sample(0.05))
    assert np.max(np.abs(played[: want.size] - want)) < 2 / 32768


def test_unknown_output_device_suggests_export(alsa_file_rig: AlsaFileRig) -> None:
    code = ("from voicecoach.playback.live import LivePlayer\n"
            "from voicecoach.planning.timeline import Timeline\n"
            "from voicecoach.errors import DeviceError\n"
            "try:\n"
            "    LivePlayer(Timeline('t', 'en', ()), {}, device='no-such-speaker')\n"
            "except DeviceError as e:\n"
            "    print(e)\n")
    message = alsa_file_rig.run_python(code).stdout.strip()
    assert "no-such-speaker" in message and "voicecoach export" in message


def test_counts_arrive_one_second_apart_in_the_room(pulse: PulseRig) -> None:
    cues = [[float(t), "speech", "tick", 0.05, None] for t in range(5)]
    recording = pulse.record("room.monitor")
    try:
        run_player(pulse, {"cues": cues, "clips": CLIPS})
    finally:
        heard = recording.stop()
    found = onsets(heard, threshold=0.1, min_gap=4000)
    assert len(found) == 5
    gaps = np.diff(found) / RATE
    assert np.all(np.abs(gaps - 1.0) < 0.002), gaps


def test_record_mic_to_an_unwritable_place_is_one_line_and_no_session(
        alsa_file_rig: AlsaFileRig, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    blocker = out / "not-a-folder"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    db = out / "log.sqlite3"
    result = alsa_file_rig.run_cli("run", "hip-thrust", "--keys-only", "--db", str(db),
                                   "--record-mic", str(blocker / "heard.wav"), timeout=60)
    assert result.returncode == 5, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "--record-mic" in line and "heard.wav" in line and "Traceback" not in line
    assert not db.exists()  # failed before a session was logged
    assert list(out.iterdir()) == [blocker]  # and left nothing behind
