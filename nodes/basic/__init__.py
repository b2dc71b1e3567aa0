"""Plain value nodes that need no torch: numbers, text, arithmetic, formatting, showing, saving
text."""
