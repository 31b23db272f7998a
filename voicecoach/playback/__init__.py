"""Playback: voicing cues and playing a timeline, live or into an audio file."""
