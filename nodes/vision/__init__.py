"""Picture encoders beside the text encoders: CLIP vision towers (Load CLIP Vision, CLIP Vision Encode)."""
