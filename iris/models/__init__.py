"""ML wrappers behind small Protocols: detector backends, letterboxing, stand-in models."""
