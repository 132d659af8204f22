"""Data pipeline: dataset description (manifest + label map), preprocessing with cache, training crops.

- :mod:`segmentation.data.manifest`: ``manifest.csv``/``.json`` + ``labels.json`` and one-error validation;
- :mod:`segmentation.data.preprocess`: MONAI load → RAS → spacing → intensity window → pad, cached as .npz;
- :mod:`segmentation.data.fallback`: APPROXIMATE pancreas head/body/tail and kidney sides;
- :mod:`segmentation.data.dataset`: mixed mask / report crops with report targets (index-seeded);
- :mod:`segmentation.data.augment`: flips / in-plane rot90 of image, label and target together, intensity.
"""
