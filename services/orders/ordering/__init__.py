"""Orders once placed: the status state machine with its notifications, and what staff read and
change. Runs inside the caller's transaction; SQL lives in `storage`."""
