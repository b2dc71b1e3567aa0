"""ComfyUI's classes as NodeFlow maps them: `entry` (the shape of one mapping) and one table per area."""
