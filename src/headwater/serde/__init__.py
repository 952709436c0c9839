"""Values to bytes and back: pickling, hashing, compression (layer 1)."""
