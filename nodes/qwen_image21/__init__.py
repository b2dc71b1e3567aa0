"""Qwen Image 2.1 (and its Turbo and Edit variants): its prompt and cache nodes, and the family's maths."""
