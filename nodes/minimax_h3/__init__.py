"""MiniMax H3: joint video + audio generation (see `_adapter`)."""
