"""Recognition: microphone audio -> spoken commands, offline."""
