"""Evidence chips moved to :mod:`supervision.remote_sensing.raster.chips`; kept as an alias."""

from .raster.chips import CLASS_COLOURS, change_chip_png, image_chip_png

__all__ = ["CLASS_COLOURS", "change_chip_png", "image_chip_png"]
