"""Reading and writing other tools' workflow files (Qt-free, torch-free). See `comfyui`."""
