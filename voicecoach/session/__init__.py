"""The live session: commands -> player actions, with keyboard and live view."""
