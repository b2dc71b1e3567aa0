"""The output panel and what it can do with images: view, compare, reveal, copy, save, reuse."""
