"""Sphinx configuration: numpydoc API pages, a sphinx-gallery of examples/, MyST pages."""

import os
import sys
import tempfile
import warnings
from pathlib import Path

import sklearn_aae

os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=UserWarning, message=".*Matplotlib is currently using agg.*")

project = "sklearn_aae"
author = "the sklearn_aae developers"
copyright = "2026, the sklearn_aae developers"
release = version = sklearn_aae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.json", "auto_examples/*.md5", "sg_execution_times.rst"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# The gallery configuration holds a function (reset_argv), which Sphinx cannot cache.
suppress_warnings = ["myst.xref_missing", "config.cache"]

autosummary_generate = True
# Inherited scikit-learn helpers whose docstrings point into scikit-learn's own site are
# left to scikit-learn's documentation.
autodoc_default_options = {
    "members": True,
    "inherited-members": True,
    "exclude-members": "get_metadata_routing, set_output, set_fit_request, set_partial_fit_request, "
                       "set_score_request, set_transform_request, set_inverse_transform_request, "
                       "set_predict_request, set_predict_proba_request",
}
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = True
numpydoc_xref_param_type = False



def _argv(gallery_conf, script_vars):
    # Examples write their PNG to sys.argv[1]; during the build that goes to a scratch
    # folder, and sphinx-gallery collects the open figures itself.
    name = Path(script_vars["src_file"]).stem + ".png"
    return [str(Path(tempfile.gettempdir()) / "sklearn_aae_gallery" / name)]


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "reset_argv": _argv,
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
}
(Path(tempfile.gettempdir()) / "sklearn_aae_gallery").mkdir(exist_ok=True)

html_theme = "pydata_sphinx_theme"
html_title = "sklearn_aae"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
templates_path = []
sys.path.insert(0, str(Path(__file__).resolve().parent))
