"""Records: the training log, what it means, and pictures of it."""
