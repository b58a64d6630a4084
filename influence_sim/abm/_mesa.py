"""Mesa, imported once for the package.

Mesa's batch runner imports ``tqdm.auto`` when Mesa is imported; in a Jupyter kernel without
ipywidgets that emits a TqdmWarning ("IProgress not found") that says nothing about this
package's use of Mesa. Only that warning is silenced, only during the import.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    warnings.filterwarnings("ignore", message=".*tqdm.*experimental", category=Warning)
    import mesa

__all__ = ["mesa"]
