"""The node canvas: scene (follows the graph), view (pan/zoom/wiring) and the items."""
