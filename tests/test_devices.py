"""`voicecoach devices` and resolve_device through real PortAudio in the audio rigs."""

from __future__ import annotations

import json

from rigs import AlsaFileRig, PulseRig

RESOLVE = """
import json, sys
from voicecoach.devices import resolve_device
from voicecoach.errors import DeviceError
out = []
for spec, kind in json.loads(sys.argv[1]):
    try:
        d = resolve_device(spec, kind)
        out.append([d.index, d.name])
    except DeviceError as e:
        out.append(str(e))
print(json.dumps(out))
"""


def resolve(rig: AlsaFileRig | PulseRig, *queries: tuple[object, str]) -> list:
    result = rig.run_python(RESOLVE, args=[json.dumps(queries)])
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_devices_lists_outputs_and_inputs_with_defaults(alsa_file_rig: AlsaFileRig) -> None:
    result = alsa_file_rig.run_cli("devices")
    assert result.returncode == 0, result.stderr
    outputs, inputs = result.stdout.split("\n\n")
    assert outputs.startswith("Outputs:") and inputs.startswith("Inputs:")
    for section in (outputs, inputs):
        assert "vc_play" in section and "vc_capture" in section
        default = [line for line in section.splitlines() if "[default]" in line]
        assert len(default) == 1 and " default " in default[0] and default[0].startswith("*")

    only_inputs = alsa_file_rig.run_cli("devices", "--kind", "input").stdout
    assert only_inputs.startswith("Inputs:") and "Outputs:" not in only_inputs


def test_resolve_device_by_default_index_and_name(alsa_file_rig: AlsaFileRig) -> None:
    default, exact, part, by_index, missing, vague, bad_index = resolve(
        alsa_file_rig, (None, "output"), ("vc_play", "output"), ("CAPTURE_F", "input"),
        (0, "output"), ("no-such-mic", "input"), ("vc_", "output"), (999, "output"))
    assert default[1] == "default"
    assert exact[1] == "vc_play"  # the exact name wins over vc_play_file
    assert part[1] == "vc_capture_file"
    assert by_index[0] == 0
    assert "'no-such-mic'" in missing and "voicecoach devices" in missing
    assert "several devices" in vague and "vc_play_file" in vague
    assert "999" in bad_index and "voicecoach devices" in bad_index


def test_devices_through_pulseaudio(pulse: PulseRig) -> None:
    result = pulse.run_cli("devices", "--kind", "output")
    assert result.returncode == 0, result.stderr
    assert "pulse" in result.stdout and "[default]" in result.stdout
    (default,) = resolve(pulse, (None, "input"))
    assert default[1] == "default"
