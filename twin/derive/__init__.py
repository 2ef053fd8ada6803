"""Derived layers computed from other layers of a twin (land cover, canyon geometry…)."""

from twin.derive.landcover import CLASSES, derive_landcover, landcover_grid

__all__ = ["CLASSES", "derive_landcover", "landcover_grid"]
