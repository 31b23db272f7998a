"""Planning: workout files -> validated model -> compiled timeline of timed cues."""
