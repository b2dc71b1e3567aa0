"""The mask editor: paint, erase and fill a mask over a picture (opened from Load Image or an output)."""
