"""voicecoach: a hands-free, voice-guided audio workout coach.

Data flows one way: workout file -> validated :class:`~voicecoach.planning.workout.Workout`
-> compiled :class:`~voicecoach.planning.timeline.Timeline` of timed cues -> either the live
player or the exporter.
"""

__version__ = "0.1.0"
