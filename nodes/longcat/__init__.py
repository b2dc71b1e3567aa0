"""LongCat-Image and LongCat-Image Edit (diffusers LongCatImagePipeline / LongCatImageEditPipeline)."""
