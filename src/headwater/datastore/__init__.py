"""Blobs and artifact indexes (layer 2). Never imports metadata."""
