"""Parameter widgets generated from node declarations (inspector) and their value rules."""
