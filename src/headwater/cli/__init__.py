"""The command line (layer 5): reads settings, picks implementations, prints."""
